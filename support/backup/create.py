"""Taking a backup while the desk runs (``flask --app app backup OUT``).

The order keeps the pieces consistent without stopping anyone:

1. the witness file first: each of its lines names a checkpoint that has committed, so the
   database copy taken next holds it (a witness line beyond the copy would read, after a
   restore, as a chain cut short);
2. the database, as one consistent snapshot (``database.dump``);
3. the stored files last: files are written before the rows naming them commit and
   deleted only when nothing references them, so every file the snapshot references is
   still there to be listed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from .. import audit
from ..personal_data import fingerprint
from ..models import utcnow
from ..storage import storage
from . import archive, database, stored_files


@dataclass
class Taken:
    """What a backup holds, for the command to say."""

    out: Path
    kind: str
    database_bytes: int
    witness_lines: int
    files: int
    files_bytes: int
    files_included: bool


def database_url(app: Flask) -> str:
    """The schema owner's URL when there is one (it may read and, on restore, create everything)."""
    return app.config.get("MIGRATION_DATABASE_URL") or app.config["DATABASE_URL"]


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _copy_witness(source: Path, target: Path) -> int:
    """The witness's complete lines (one being appended right now is left for the next backup)."""
    content = source.read_bytes() if source.exists() else b""
    complete = content[:content.rfind(b"\n") + 1]
    target.write_bytes(complete)
    return complete.count(b"\n")


def take(app: Flask, out: Path, *, with_files: bool) -> Taken:
    """Write a backup of the desk to ``out`` (a folder, or one file when it ends in ``.tar``)."""
    key = audit.load_signing_key(app.config, app.instance_path)
    url = database_url(app)
    staging = archive.Staging(out)
    try:
        lines = _copy_witness(app.extensions["audit_policy"].witness_file, staging.path(archive.WITNESS))
        revision = _revision(url)
        dump_name = database.file_name(url)
        dumped = database.dump(url, staging.path(dump_name))
        count = total = 0
        files = storage()
        with open(staging.path(archive.FILES_LIST), "w", encoding="utf-8") as listing:
            for entry, data in stored_files.listing(files):
                listing.write(json.dumps(entry.as_dict(), sort_keys=True) + "\n")
                if with_files:
                    staging.path(archive.file_member(entry)).write_bytes(data)
                count, total = count + 1, total + entry.size
        members = [archive.describe(staging.path(name), name)
                   for name in (dump_name, archive.WITNESS, archive.FILES_LIST)]
        staging.finish({
            "format": archive.FORMAT, "version": archive.VERSION, "created_at": utcnow().isoformat(),
            "app_version": _app_version(), "alembic_revision": revision,
            "database": {"kind": dumped.kind, "file": dump_name, "client_major": dumped.client_major},
            "signing_key": key.public_key().public_bytes_raw().hex(),
            "personal_key_check": personal_key_check(app),
            "witness_lines": lines,
            "storage": {"location": files.describe(), "files": count, "bytes": total, "files_included": with_files},
            "members": members,
        }, key)
    except BaseException:
        staging.abandon()
        raise
    return Taken(out, dumped.kind, members[0]["size"], lines, count, total, with_files)


def personal_key_check(app: Flask) -> str:
    """A fingerprint made with AUDIT_PERSONAL_KEY: a restore under another key is refused
    before it starts (every personal value of the trail would read as altered), and the key
    itself stays out of the backup."""
    return fingerprint(app.extensions["personal_key"](), "recovery-desk backup key check")


def _app_version() -> str:
    try:
        return metadata.version("recovery-desk")
    except metadata.PackageNotFoundError:
        return "unknown"
