"""Bulk export: one PDF per case and a manifest, rendered on every core.

Each worker process builds its own app (its own engine and connections: nothing is
shared across a fork) and handles one case at a time in three steps: read the case in
a short transaction, render with no database lock held, then record "report.generated"
in its own transaction and move the finished file into place. The audit chain
serialises the appends, so workers never fork the chain.
"""
from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Iterator

from flask import Flask
from sqlmodel import Session, select

from .. import audit, cases, db
from ..models import Case, CaseStatus
from ..storage import for_app
from . import content
from .pdf import check_language, record_generated, render_pdf

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Exported:
    """One line of the manifest."""

    case_number: str
    file_name: str
    sha256: str


def case_numbers(session: Session, *, status: CaseStatus | None = None, since: date | None = None) -> list[str]:
    """The numbers of the cases to export, oldest first."""
    query = select(Case.number).where(Case.number.is_not(None)).order_by(Case.created_at, Case.id)
    if status is not None:
        query = query.where(Case.status == status)
    if since is not None:
        query = query.where(Case.created_at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    return list(session.exec(query))


def worker_config(app: Flask) -> dict:
    """The settings a worker needs to build the same app (plain values only, they cross processes)."""
    plain = (str, int, float, bool, type(None))
    config = {key: value for key, value in app.config.items() if key.isupper() and isinstance(value, plain)}
    return {**config, "INSTANCE_PATH": app.instance_path}


def export(app: Flask, numbers: list[str], out_dir: Path, *, language: str, actor: audit.Actor,
           jobs: int | None = None) -> Iterator[Exported | tuple[str, Exception]]:
    """Render every case into ``out_dir``; yields each result (or the case number and its error) as it finishes."""
    check_language(language)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(numbers)))
    # spawn, not fork: a forked child would share the parent's database sockets
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(worker_config(app),)) as pool:
        futures = {pool.submit(_export_one, number, str(out_dir), language, actor): number for number in numbers}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # one bad case must not lose the others
                yield futures[future], error


def write_manifest(out_dir: Path, exported: list[Exported]) -> Path:
    """``manifest.csv``: case number, file name and SHA-256 of each PDF, by case number."""
    path = out_dir / MANIFEST
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_number", "file_name", "sha256"])
        for row in sorted(exported, key=lambda row: row.case_number):
            writer.writerow([row.case_number, row.file_name, row.sha256])
    return path


# -- inside a worker process --------------------------------------------------------------

_worker_app: Flask | None = None


def _start_worker(config: dict) -> None:
    from .. import create_app  # the package imports this module: build the app only in the worker

    global _worker_app
    _worker_app = create_app(config)


def _export_one(number: str, out_dir: str, language: str, actor: audit.Actor) -> Exported:
    app = _worker_app
    with app.app_context():
        with db.transaction(app) as session:
            case = cases.get_by_number(session, number)
            if case is None:
                raise LookupError(f"no case {number}")
            data = content.gather(session, case, language=language, generated_by=actor, config=app.config)
        pdf = render_pdf(data, config=app.config, storage=for_app(app))
        final = Path(out_dir) / f"{number}.pdf"
        partial = final.with_suffix(".pdf.partial")
        partial.write_bytes(pdf)
        try:
            with db.transaction(app) as session:
                record_generated(session, data, pdf)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, final)
    return Exported(number, final.name, hashlib.sha256(pdf).hexdigest())
