"""Files accepted before the form as a whole is: stored at once, carried in the form.

When a form comes back with an error, the files that passed their checks are already in
storage; the page carries a signed reference to each (itsdangerous, the app's SECRET_KEY)
so the claimant never uploads them again. A reference names only the original's SHA-256,
the kind and the display name; filing re-inspects the stored bytes. Files staged but never
filed are found by ``purge`` (daily on the worker, or ``flask intake purge-staged``):
anything in storage that no evidence row references and that is older than the given age.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from .. import db, jobs, written
from ..evidence import Inspected, Upload, display_name, store_files
from ..models import EvidenceKind
from ..storage import AREAS, Storage, storage

#: a reference older than this is ignored (the claimant uploads the file again)
REFERENCE_HOURS = 24
#: the worker's daily purge deletes unreferenced files untouched for this long
PURGE_AFTER_HOURS = 48


@dataclass
class Staged:
    """An accepted file as the form shows it again."""

    reference: str
    name: str
    kind: EvidenceKind


def _serializer(config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt="intake.staged-evidence")


def stage(inspected: Inspected, files: Storage, config) -> Staged:
    """Store an inspected upload now; returns the reference the form carries."""
    store_files(inspected, files=files)
    name = inspected.display_name
    reference = _serializer(config).dumps({"sha256": inspected.sha256, "kind": inspected.upload.kind.value, "name": name})
    return Staged(reference, name, inspected.upload.kind)


def resolve(reference: str, files: Storage, config) -> tuple[Staged, Upload] | None:
    """The staged file behind a reference, or None if forged, expired or gone from storage."""
    try:
        claim = _serializer(config).loads(reference, max_age=REFERENCE_HOURS * 3600)
        kind = EvidenceKind(claim["kind"])
        sha256 = claim["sha256"]
        if not files.exists("originals", sha256):
            return None
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    name = display_name(claim.get("name", ""))
    return Staged(reference, name, kind), Upload(filename=name, data=files.open("originals", sha256), kind=kind)


def purge(session: Session, files: Storage, *, older_than: timedelta) -> int:
    """Delete stored files no evidence references and not touched for ``older_than``; returns how many.

    Evidence of a case whose data was erased references nothing (``written.live_case``): a
    file its erasure could not delete (a crash right after the commit) goes here.

    Leftover temporary files of interrupted writes are removed the same way, and drawn PDF
    pages (``pages``, a cache drawn again when next viewed) once untouched that long.
    """
    referenced = written.committed_files(session)
    cutoff = datetime.now(timezone.utc) - older_than
    removed = files.remove_incomplete(cutoff)
    with files.locked():  # a request committing meanwhile writes back, after us, any file it names
        for area in AREAS:
            for entry in list(files.entries(area)):
                if entry.name in referenced.get(area, ()) or entry.last_modified > cutoff:
                    continue
                files.delete(area, entry.name)
                removed += 1
    return removed


@jobs.periodic(jobs.crontab(minute="30", hour="3"))
def purge_abandoned() -> int:
    """Daily on the worker: ``purge`` with the command's default age, reading without the write lock."""
    with Session(db.reader()) as session:
        return purge(session, storage(), older_than=timedelta(hours=PURGE_AFTER_HOURS))
