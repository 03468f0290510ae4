"""A real Huey consumer for the job tests, on SQLite (in the test's instance folder) or Redis.

Redis runs where JOBS_TEST_REDIS_URL points (.ci/run sets it); each test gets a queue name
of its own there, flushed afterwards.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlmodel import select

from support import db, jobs
from support.models import JobRun, JobState

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


def wait_for(predicate, what: str, ceiling: float = 60):
    """Poll until ``predicate()`` is truthy (the worker runs elsewhere); fail after ``ceiling`` s."""
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what}")


def runs(app) -> list[JobRun]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(JobRun).order_by(JobRun.id)))


def finished(app, count: int = 1, names: set[str] | None = None) -> list[JobRun]:
    """Wait for ``count`` jobs (of those ``names``) to reach a final state; returns them all."""
    final = {JobState.done, JobState.failed, JobState.skipped}

    def ready():
        found = [run for run in runs(app) if names is None or run.name in names]
        return found if sum(run.state in final for run in found) >= count else None

    return wait_for(ready, f"{count} finished job(s)")
