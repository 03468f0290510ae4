"""Files a transaction stored, settled when it ends: a stored file is deleted only when no
committed row references it.

Stored files are content-addressed and shared: two cases may hold the same picture. So a
transaction that rolls back must not simply delete what it wrote; another transaction may
have found the same file there and be about to commit a row naming it. When a session's
transaction ends (commit or rollback), ``settle`` takes the storage lock and, in a fresh
read, looks at what committed evidence references:

- a file this transaction created that nothing committed references is deleted;
- a file this transaction's rows reference that is gone (a concurrent clean-up saw no
  committed row yet) is written again from the bytes still in memory.

Deleting and re-writing both happen under the lock, after the reading transaction has
committed or rolled back, so either the cleaner sees the committed row, or the committer
sees the file gone and writes it back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlmodel import Session, select

from . import db
from .models import Case, Evidence
from .storage import Storage

#: the evidence column naming the files of each storage area
COLUMNS = {
    "originals": Evidence.sha256,
    "viewable": Evidence.viewable_sha256,
    "thumbnails": Evidence.thumbnail_sha256,
    "print": Evidence.print_sha256,
}
_INFO_KEY = "written_files"


@dataclass
class Written:
    """What one session's transaction stored: every file (with its bytes) and those it created."""

    files: Storage
    stored: dict[tuple[str, str], bytes] = field(default_factory=dict)
    created: set[tuple[str, str]] = field(default_factory=set)

    def store(self, area: str, data: bytes) -> str:
        """Store ``data`` in ``area`` (a no-op when the same bytes are there); returns its SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        self.stored[(area, sha256)] = data
        if not self.files.touch(area, sha256):  # there: in use again, so the purge of unreferenced files waits
            self.files.store(area, data)
            self.created.add((area, sha256))
        return sha256

    def settle(self, session: Session) -> None:
        """Delete what was created and is referenced by no committed row; restore what is
        referenced and gone. ``session`` is a fresh one that only reads."""
        if not self.stored:
            return
        with self.files.locked():
            referenced = live_references(session, self.stored)
            session.rollback()
            for key, data in self.stored.items():
                area, sha256 = key
                if key in referenced:
                    if not self.files.exists(area, sha256):
                        self.files.store(area, data)
                elif key in self.created:
                    self.files.delete(area, sha256)
        self.stored.clear()
        self.created.clear()


def live_references(session: Session, keys) -> set[tuple[str, str]]:
    """Those of ``keys`` (area, SHA-256) that evidence of a case whose data is not erased names.

    An erased case keeps its evidence rows (and the originals' SHA-256s) but no file: its
    references do not count.
    """
    found = set()
    for area, column in COLUMNS.items():
        wanted = {sha256 for key_area, sha256 in keys if key_area == area}
        if wanted:
            found.update((area, sha256) for sha256 in session.exec(select(column).where(column.in_(wanted))
                                                                    .where(live_case)))
    return found


#: evidence whose case's data is not erased (its files are still wanted)
live_case = Evidence.case_id.in_(select(Case.id).where(Case.erased_at.is_(None)))


def committed_files(session: Session) -> dict[str, set[str]]:
    """Every file committed evidence of a case not erased names, by storage area (the ``pages``
    cache is named by none): what the purge keeps and a migration must copy."""
    return {area: set(session.exec(select(column).where(column.is_not(None), live_case)))
            for area, column in COLUMNS.items()}


def of(session: Session, files: Storage) -> Written:
    """The files stored in ``session``'s transaction; settled when its outermost transaction ends."""
    written = session.info.get(_INFO_KEY)
    if written is None:
        written = session.info[_INFO_KEY] = Written(files)
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
    if not session.in_transaction():
        session.begin()  # so its end (commit or rollback) is seen; no connection is taken yet
    return written


def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # the outermost transaction, not a savepoint
        _settle(session)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        _settle(session)


def _settle(session: Session) -> None:
    written = session.info.get(_INFO_KEY)
    if written is not None and written.stored:
        with Session(db.reader(session.get_bind())) as fresh:
            written.settle(fresh)
