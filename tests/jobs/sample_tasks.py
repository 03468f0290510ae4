"""Tasks the job tests queue: one reading a committed row, one failing while a file says so."""
from __future__ import annotations

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
