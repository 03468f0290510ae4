"""The storage lock holds across machines: two storages made apart, on the local folder and on a
bucket (whose lock lives on the database: PostgreSQL's advisory lock, SQLite's flock)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from support import db
from support.storage import for_app, locks, make_storage

#: seconds a test waits for another thread to reach a point it must reach
WAIT = 60


@pytest.fixture
def app_config(app_config, storage_settings):
    return {**app_config, **storage_settings}


def test_the_lock_excludes_another_machine_using_the_same_storage(app):
    """Two storages made apart (as on two machines) share one lock: the second waits for the first."""
    files = for_app(app)
    other = make_storage(app.config.get("STORAGE_URL"), config=app.config, lock=locks.for_app(app))
    assert other is not files
    order = []

    def second():
        with other.locked():
            order.append("second")

    thread = threading.Thread(target=second)
    with files.locked():
        thread.start()
        _until(lambda: _someone_waits(app, files))
        order.append("first done")
    thread.join(WAIT)
    assert order == ["first done", "second"]


def _someone_waits(app, files) -> bool:
    """True once a holder is blocked on the storage's lock: PostgreSQL's view of its advisory
    locks for a bucket on PostgreSQL, else the kernel's list of blocked ``flock`` waiters."""
    if app.config.get("STORAGE_URL") and db.engine(app).dialect.name == "postgresql":
        with db.engine(app).connect() as connection:
            return bool(connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar())
    lock_file = Path(app.instance_path, "storage.lock") if app.config.get("STORAGE_URL") else Path(
        app.config["UPLOAD_DIR"], ".lock")
    inode = f":{lock_file.stat().st_ino}"
    with open("/proc/locks") as listing:
        return any("->" in line and any(field.endswith(inode) for field in line.split()) for line in listing)


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the second holder never waited"
        time.sleep(0.01)
