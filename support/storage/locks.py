"""The storage lock of a bucket, which many machines share: it lives with the database.

A folder locks itself with ``flock`` (``folder.FileStorage.locked``). A bucket has no lock
of its own, and what the lock guards is a decision made from the database (is a file still
referenced?), so the lock lives where the references do: on PostgreSQL a session-level
advisory lock on a connection of its own, held by one process on any machine at a time;
on SQLite, which only processes on one machine share, an ``flock`` beside the database.
"""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, ContextManager, Iterator

from flask import Flask
from sqlalchemy import Engine, text

#: the advisory lock's key (the audit trail's lock uses its own): "storage" as a number
ADVISORY_KEY = int.from_bytes(b"storage", "big")


def for_app(app: Flask) -> Callable[[], ContextManager[None]]:
    """The lock a bucket used by ``app`` takes: on ``app``'s database."""
    from .. import db

    engine = db.engine(app)
    if engine.dialect.name == "postgresql":
        return lambda: advisory(engine)
    return lambda: flocked(Path(app.instance_path) / "storage.lock")


@contextmanager
def advisory(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock ``ADVISORY_KEY`` on a connection of its own."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.rollback()


@contextmanager
def flocked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
