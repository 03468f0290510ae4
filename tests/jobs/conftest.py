"""A real Huey consumer for the job tests, on SQLite (in the test's instance folder) or Redis.

Redis runs where JOBS_TEST_REDIS_URL points (.ci/run sets it); each test gets a queue name
of its own there, flushed afterwards.
"""
from __future__ import annotations

import os
import signal
import uuid
from contextlib import contextmanager

import pytest

from support import jobs

REDIS_URL = os.environ.get("JOBS_TEST_REDIS_URL")
QUEUE_BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(
    not REDIS_URL, reason="Redis queue skipped: set JOBS_TEST_REDIS_URL (.ci/run does)"))]


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_backend(request, app_config):
    """Parametrise a test over the queue's storage (ask for it before ``app``)."""
    if request.param == "redis":
        app_config["JOBS_URL"] = REDIS_URL
    app_config["JOBS_NAME"] = f"rd-test-{uuid.uuid4().hex[:10]}"
    return request.param


@pytest.fixture
def worker(app):
    """``with worker(): ...``: a consumer running in this process (threads) until the block ends."""

    @contextmanager
    def running(workers: int = 1):
        engine = jobs.engine(app)
        engine.register_all()
        consumer = engine.huey.create_consumer(workers=workers, periodic=False, check_worker_health=False,
                                               max_delay=0.2)
        handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer.start()
        try:
            yield consumer
        finally:
            consumer.stop(graceful=True)
            for number, handler in handlers.items():
                signal.signal(number, handler)

    yield running
    jobs.engine(app).huey.flush()
