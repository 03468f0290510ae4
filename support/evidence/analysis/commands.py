"""``flask evidence analyse``: read evidence stored before analysis existed, or read again;
``flask evidence thumbnails``: give older evidence today's thumbnails.

Each file is analysed here, one at a time, exactly as the worker does it (``run``), so an
operator can fill in older cases without a worker; every file commits on its own.
"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlmodel import Session, or_, select

from ... import audit, db
from ...models import AnalysisStatus, Case, Evidence
from ...storage import storage
from ..store import new_thumbnail, replace_thumbnail
from .run import analyse_evidence

CLI_ACTOR = audit.Actor("cli", None, "command line")

evidence_cli = AppGroup("evidence", help="Evidence files: reading them again.")


@evidence_cli.command("analyse")
@click.option("--case", "number", help="Only the files of this case.")
@click.option("--all", "every", is_flag=True, help="Every file, even those analysed already.")
@click.option("--missing", is_flag=True, help="Files never analysed, or whose analysis failed.")
def analyse_command(number: str | None, every: bool, missing: bool) -> None:
    """Analyse evidence files again (box labels, IMEI screens, receipts, screenshots) and re-run their cases' checks."""
    if not (number or every or missing):
        raise click.UsageError("say which files: --case NUMBER, --missing or --all")
    query = select(Evidence.id).order_by(Evidence.id)
    if number:
        query = query.join(Case, Case.id == Evidence.case_id).where(Case.number == number)
    if missing:
        query = query.where(or_(Evidence.analysis_status.is_(None), Evidence.analysis_status == AnalysisStatus.failed))
    with Session(db.reader()) as session:
        ids = list(session.exec(query))
    outcome: dict[str, int] = {}
    with click.progressbar(ids, label=f"Analysing {len(ids)} files", file=sys.stderr) as bar:
        for evidence_id in bar:
            status = analyse_evidence(evidence_id)
            key = status.value if status else "skipped"
            outcome[key] = outcome.get(key, 0) + 1
    click.echo(", ".join(f"{count} {key}" for key, count in sorted(outcome.items())) or "nothing to analyse")


@evidence_cli.command("thumbnails")
@click.option("--case", "number", help="Only the files of this case.")
def thumbnails_command(number: str | None) -> None:
    """Draw every file's thumbnail again as new uploads get it (whole picture, letterboxed;
    a PDF's first page). Each file is drawn with no transaction open and commits on its own;
    running it again changes nothing."""
    query = select(Evidence).order_by(Evidence.id)
    if number:
        query = query.join(Case, Case.id == Evidence.case_id).where(Case.number == number)
    with Session(db.reader(), expire_on_commit=False) as session:
        items = list(session.exec(query))
    changed = 0
    for item in items:
        data = new_thumbnail(storage(), item)
        if data is None:
            continue
        with db.transaction() as session:
            changed += replace_thumbnail(session, item.id, data, actor=CLI_ACTOR)
    click.echo(f"{changed} of {len(items)} thumbnails drawn again")
