"""The stored files as a backup sees them: listed with their size and SHA-256, copied, and
checked against a restored desk's storage.

Evidence lives outside the database, so a backup lists every stored file (area, name,
size, SHA-256: the ``files.jsonl`` of the backup) and, with ``--with-files``, carries
them. Content-addressed areas name a file by its SHA-256, so a corrupt copy shows as a
name that is not its hash; the ``pages`` cache is named by what it was drawn from, so only
its recorded hash tells.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlmodel import Session, select

from ..storage import AREAS, Storage
from ..written import COLUMNS


@dataclass(frozen=True)
class StoredFile:
    """One line of the manifest of stored files."""

    area: str
    name: str
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return {"area": self.area, "name": self.name, "size": self.size, "sha256": self.sha256}


def names(files: Storage, area: str) -> Iterator[str]:
    """The names of the files stored in ``area``."""
    return (entry.name for entry in files.entries(area))


def read(files, area: str, name: str) -> bytes | None:
    """The file's bytes, or None when it is not (or no longer) there."""
    try:
        return files.open(area, name)
    except (FileNotFoundError, KeyError):
        return None


def listing(files) -> Iterator[tuple[StoredFile, bytes]]:
    """Every stored file of every area with its bytes; one deleted while we list is skipped."""
    for area in AREAS:
        for name in sorted(names(files, area)):
            data = read(files, area, name)
            if data is not None:
                yield StoredFile(area, name, len(data), hashlib.sha256(data).hexdigest()), data


@dataclass
class Problem:
    """A stored file a restored desk lacks or holds with other bytes."""

    area: str
    name: str
    what: str  # "missing" or "corrupt"
    why: str

    def __str__(self) -> str:
        return f"{self.what}: {self.area}/{self.name} ({self.why})"


def check(files, expected: Iterable[StoredFile], session: Session) -> list[Problem]:
    """Compare the storage with the manifest's files and with what the database references.

    Every listed file must be there with its SHA-256; every file an evidence row names must
    be there too (a backup taken without the files, a bucket that lost one).
    """
    problems, seen = [], set()
    for entry in expected:
        seen.add((entry.area, entry.name))
        data = read(files, entry.area, entry.name)
        if data is None:
            problems.append(Problem(entry.area, entry.name, "missing", "listed in the backup"))
        elif hashlib.sha256(data).hexdigest() != entry.sha256:
            problems.append(Problem(entry.area, entry.name, "corrupt", "its SHA-256 differs from the backup's"))
    for area, column in COLUMNS.items():
        for name in session.exec(select(column).where(column.is_not(None)).distinct()):
            if (area, name) not in seen and not files.exists(area, name):
                problems.append(Problem(area, name, "missing", "an evidence row references it"))
    return problems
