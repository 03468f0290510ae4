"""Putting a backup back (``flask --app app restore IN``) and showing that it holds together.

Nothing is touched until the backup verifies (signed manifest, every member's SHA-256),
this desk has the backed-up desk's AUDIT_PERSONAL_KEY, its schema is one this code knows,
and the target is empty: a database holding rows or a witness file with lines is given up
only with ``--force`` (the old witness file is then
kept aside, never deleted: it may be the only record of what the desk had). Then the
database is loaded, migrated to this code's schema (which on PostgreSQL also grants the
app's role its rights again), the witness file put back, the stored files (when the
backup carries them) written into the storage, the storage checked against the backup's
list and the database's references, and the audit trail verified against its checkpoints
and the restored witness, and the kept personal values against their fingerprints, as
``flask audit verify --witness`` does; then the
event ``desk.restored`` records which backup came back and how it checked out. Before
the trail is verified, every case the erasure ledgers name (``erasure_ledger``: erased
after the backup was taken) is erased again, so a restore never brings an erased
claimant back.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask
from sqlmodel import Session

from .. import audit, cases, db, erasure, erasure_ledger, personal, witness
from ..models import utcnow
from ..storage import storage
from . import archive, database, stored_files
from .create import database_url, personal_key_check


RESTORER = audit.Actor("cli", None, "restore command")


class RestoreRefused(RuntimeError):
    """The restore did not start; nothing was changed."""


@dataclass
class Restored:
    manifest: dict
    problems: list[stored_files.Problem] = field(default_factory=list)
    verdict: audit.Verdict | None = None
    witness_kept_aside: Path | None = None
    files_written: int = 0
    #: subjects whose kept personal values no longer match their fingerprints (as ``audit verify`` says)
    altered: list[str] = field(default_factory=list)
    #: the erasure ledgers read, and the cases erased again because the backup predates their erasure
    ledgers: list[Path] = field(default_factory=list)
    erased_again: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.altered and self.verdict is not None and self.verdict.ok


def verify(app: Flask, source: Path) -> tuple[dict | None, list[str]]:
    """Check a backup without restoring it: its manifest's signature and every member."""
    key = audit.load_signing_key(app.config, app.instance_path).public_key()
    with archive.Backup(source) as backup:
        return archive.verify(backup, key)


def _refuse_unknown_revision(revision: str | None) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except Exception:
        raise RestoreRefused(f"the backup's schema ({revision}) is unknown to this version of the desk: "
                             "restore it with the version that made it (or a newer one)") from None


def _refuse_when_not_empty(url: str, witness_file: Path, force: bool) -> None:
    if force:
        return
    tables = database.holds_data(url)
    if tables:
        raise RestoreRefused(f"the target database holds data ({', '.join(sorted(tables)[:5])}…): restore into an "
                             "empty database, or add --force to replace it")
    if witness_file.exists() and witness_file.stat().st_size:
        raise RestoreRefused(f"the witness file {witness_file} has lines: move it away, or add --force "
                             "(it is then kept aside, renamed)")


def _put_witness(backup: archive.Backup, witness_file: Path) -> Path | None:
    """Put the backup's witness file in place; an existing one is renamed, never deleted."""
    kept = None
    if witness_file.exists() and witness_file.stat().st_size:
        kept = witness_file.with_name(f"{witness_file.name}.before-restore-{utcnow():%Y%m%dT%H%M%S}")
        os.replace(witness_file, kept)
    witness_file.parent.mkdir(parents=True, exist_ok=True)
    partial = witness_file.with_name(f".{witness_file.name}.partial")
    partial.write_bytes(backup.read(archive.WITNESS))
    os.replace(partial, witness_file)
    return kept


def _put_files(backup: archive.Backup, listed: list[stored_files.StoredFile]) -> int:
    """Write the backup's stored files into the storage, skipping those already there intact."""
    files, written = storage(), 0
    for entry in listed:
        present = stored_files.read(files, entry.area, entry.name)
        if present is not None and hashlib.sha256(present).hexdigest() == entry.sha256:
            continue
        files.put(entry.area, entry.name, backup.read(archive.file_member(entry)))
        written += 1
    return written


def restore(app: Flask, source: Path, *, force: bool = False, ledgers: list[Path] | None = None) -> Restored:
    """Restore the backup at ``source`` into this desk (see the module's docstring); then erase
    again the cases that ``ledgers`` (this desk's erasure ledger by default) say were erased."""
    if ledgers is None:
        ledgers = [path for path in [erasure_ledger.path_of(app)] if path.exists()]
    for ledger in ledgers:
        if not Path(ledger).is_file():
            raise RestoreRefused(f"no erasure ledger at {ledger}")
    url = database_url(app)
    policy: witness.Policy = app.extensions["audit_policy"]
    with archive.Backup(source) as backup:
        manifest, problems = archive.verify(backup, policy.key().public_key())
        if problems:
            raise RestoreRefused("the backup does not verify:\n  " + "\n  ".join(problems))
        if manifest["database"]["kind"] != database.kind(url):
            raise RestoreRefused(f"a {manifest['database']['kind']} backup restores into a "
                                 f"{manifest['database']['kind']} database, not {database.kind(url)}")
        if manifest["personal_key_check"] != personal_key_check(app):
            raise RestoreRefused("this desk's AUDIT_PERSONAL_KEY is not the one of the desk that took the backup: "
                                 "set it to that key (every personal value of the trail would read as altered)")
        _refuse_unknown_revision(manifest["alembic_revision"])
        _refuse_when_not_empty(url, policy.witness_file, force)
        with backup.local_file(manifest["database"]["file"]) as dump:
            database.load(dump, url, dump_major=manifest["database"]["client_major"])
        db.engine(app).dispose()  # no pooled connection may still see the old database
        db.upgrade(app)
        restored = Restored(manifest, witness_kept_aside=_put_witness(backup, policy.witness_file))
        listed = archive.stored_files(backup)
        if manifest["storage"]["files_included"]:
            restored.files_written = _put_files(backup, listed)
    with Session(db.reader(db.engine(app))) as session:
        restored.problems = stored_files.check(storage(), listed, session)
        restored.altered = sorted({row.subject for row in personal.altered(session, app.extensions["personal_key"]())})
    restored.ledgers = list(ledgers)
    restored.erased_again = _erase_again(app, erasure_ledger.read(ledgers))
    restored.verdict = witness.verify_and_keep(by="cli")
    _record(restored)
    return restored


def _erase_again(app: Flask, listed: dict[str, str]) -> list[str]:
    """Each listed case the restored database holds un-erased is erased again (the files the
    backup brought back go after each commit), one transaction each, as the restore command."""
    again = []
    for number, first in sorted(listed.items()):
        with db.transaction(app) as session:
            case = cases.get_by_number(session, number)
            if case is None or case.erased_at is not None:
                continue
            erasure.erase_case(session, case, actor=RESTORER, open_too=True,
                               reason=f"erased again after a restore: first erased {first or 'earlier'}, "
                                      "after the backup was taken")
        again.append(number)
    return again


def _record(restored: Restored) -> None:
    """The restored trail says it was restored, from which backup, and how it checked out."""
    manifest = restored.manifest
    with db.transaction() as session:
        audit.record(session, actor=RESTORER, action="desk.restored", after={
            "backup_taken_at": manifest["created_at"], "alembic_revision": manifest["alembic_revision"],
            "stored_files": manifest["storage"]["files"], "file_problems": len(restored.problems),
            "audit_verified": restored.verdict.ok and not restored.altered,
            "erased_again": len(restored.erased_again)})
