"""The erasures a restore must do again: one line per erased case, kept outside the database.

A backup taken before an erasure still holds the erased values, and restoring it would
bring the claimant back. So every erasure, once committed, appends the case's number and
when to ``ERASURE_LEDGER_FILE`` (a number says nothing about its claimant), and
``restore`` (``backup.restore``) erases again every listed case the restored database
holds un-erased. Like the audit witness file, each machine appends to its own file; keep them where the backups are
not, and give a restore all of them. The daily retention run adds any erased case this
machine's file lacks (a crash between the commit and the line).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Iterable

from flask import Flask
from sqlmodel import Session, select

from . import cases, db
from .append_only import append_lines
from .models import Case, utcnow


def path_of(app: Flask) -> Path:
    return Path(app.config["ERASURE_LEDGER_FILE"] or Path(app.instance_path) / "erasure-ledger.log")


def note(app: Flask, erased: Iterable[tuple[str, datetime | None]]) -> None:
    """Append the erased cases, ``(number, when)`` (when: now if None), on disk before returning."""
    now = utcnow()
    append_lines(path_of(app), [{"case": number, "erased_at": (at or now).isoformat()} for number, at in erased],
                 sync=True)


def read(paths: Iterable[Path]) -> dict[str, str]:
    """{case number: when first erased} from every ledger file given (a torn last line is skipped)."""
    listed: dict[str, str] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and cases.CASE_NUMBER.fullmatch(str(entry.get("case", ""))):
                listed.setdefault(entry["case"], entry.get("erased_at") or "")
    return listed


def catch_up(app: Flask) -> int:
    """Add to this machine's file the erased cases no ledger line names yet; returns how many."""
    path = path_of(app)
    known = read([path]) if path.exists() else {}
    with Session(db.reader(db.engine(app))) as session:
        erased = session.exec(select(Case.number, Case.erased_at).where(Case.erased_at.is_not(None))).all()
    missing = [(number, at) for number, at in erased if number not in known]
    note(app, missing)
    return len(missing)
