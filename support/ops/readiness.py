"""Is this process ready to serve: can it reach the database, the storage and the job queue?

Each check runs in a thread of a small pool and the answer waits at most
``CHECK_SECONDS`` for them all, so a server that hangs (a firewall dropping packets)
makes the probe fail fast instead of hanging with it; the Redis client gets the same
limit as its own socket timeouts.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable

import redis
from flask import Flask

from .. import db, jobs
from ..storage import storage

log = logging.getLogger("recovery_desk.readiness")

CHECK_SECONDS = 2.0
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


def _database(app: Flask) -> None:
    with db.reader(db.engine(app)).connect() as connection:
        connection.exec_driver_sql("SELECT 1").scalar()


#: the name of the file the storage check writes, reads back and deletes (in the ``pages`` cache)
PROBE = "0" * 64


def _storage(app: Flask) -> None:
    """Write, read back and delete a small file: a folder (or bucket) that only exists is not enough."""
    with app.app_context():
        files = storage()
        files.put("pages", PROBE, b"ready")
        if files.open("pages", PROBE) != b"ready":
            raise OSError("the storage gave back other bytes")
        files.delete("pages", PROBE)


def _queue(app: Flask) -> None:
    url = app.config.get("JOBS_URL") or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
        return
    jobs.engine(app).huey.pending_count()


CHECKS: dict[str, Callable[[Flask], None]] = {"database": _database, "storage": _storage, "queue": _queue}


def check(app: Flask) -> dict[str, str]:
    """``{"database": "ok", "storage": "failed: PermissionError", "queue": "timed out"}``:
    only the kind of failure (the page is public); the details go to the log."""
    running = {name: _pool.submit(probe, app) for name, probe in CHECKS.items()}
    wait(running.values(), timeout=CHECK_SECONDS)
    outcome = {}
    for name, future in running.items():
        if not future.done():
            outcome[name] = "timed out"
            log.warning("readiness: %s did not answer within %s s", name, CHECK_SECONDS)
        elif future.exception() is not None:
            error = future.exception()
            outcome[name] = f"failed: {type(error).__name__}"
            log.warning("readiness: %s failed: %s", name, error)
        else:
            outcome[name] = "ok"
    return outcome
