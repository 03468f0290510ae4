"""Tasks the job tests queue: one reading a committed row, one failing while a file says so."""
from __future__ import annotations

import time
from pathlib import Path

from support import db, jobs
from support.models import CannedReply


@jobs.task(retries=0)
def copy_title(reply_id: int, path: str) -> None:
    """Reads a row written in the transaction that queued the job (None if it were not committed)."""
    with db.transaction() as session:
        reply = session.get(CannedReply, reply_id)
    Path(path).write_text(reply.title)


@jobs.task(retries=1, retry_delay=0)
def fragile(folder: str) -> None:
    """Fails while ``folder/broken`` exists, like a job whose mail server is down."""
    with (Path(folder) / "attempts").open("a") as attempts:
        attempts.write("x")
    if (Path(folder) / "broken").exists():
        raise RuntimeError("the mail server said no")
    (Path(folder) / "done").write_text("ok")


@jobs.task(retries=0)
def stall_once(folder: str) -> None:
    """The first run hangs until its worker is killed; a later run finishes (the job was idempotent)."""
    started = Path(folder) / "started"
    if not started.exists():
        started.write_text("x")
        time.sleep(120)
    with (Path(folder) / "done").open("a") as done:
        done.write("x")
