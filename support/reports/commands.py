"""``flask report NUMBER -o FILE.pdf``, ``flask reports export --out DIR`` and ``flask reports print-copies``."""
from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session, select

from .. import audit, cases, db, evidence, storage
from ..extensions import LANGUAGES
from ..models import CaseStatus, Evidence
from . import export
from .pdf import gather, record_generated, render

LANGUAGE = click.option("--lang", "language", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
                        help="Language of the report.")


def cli_actor() -> audit.Actor:
    """The person at the terminal, as the audit trail names them."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = "unknown"
    return audit.Actor("cli", user, f"command line ({user})")


@click.command("report")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the PDF.")
@click.option("--for-claimant", is_flag=True, help="Leave out the internal notes (the copy a claimant may get).")
@LANGUAGE
@with_appcontext
def report_command(number: str, output: Path, for_claimant: bool, language: str) -> None:
    """Write the PDF report of case NUMBER (audited as report.generated)."""
    with Session(db.reader()) as session:
        case = cases.get_by_number(session, number)
        if case is None:
            raise click.ClickException(f"no case {number}")
        data = gather(session, case, language=language, for_claimant=for_claimant,
                      generated_by=cli_actor(), config=current_app.config)
    pdf = render(data, config=current_app.config, storage=storage.storage())
    # written before the audit event: a report that could not be saved leaves none
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(pdf)
    try:
        with db.transaction() as session:
            record_generated(session, data, pdf)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)
    click.echo(f"{output}: {case.number}, {len(pdf):,} bytes")


export_group = AppGroup("reports", help="Case reports in bulk.")


@export_group.command("export")
@click.option("--status", type=click.Choice([status.value for status in CaseStatus]), help="Only cases in this status.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only cases filed on or after this day (UTC).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the PDFs and manifest.csv.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@LANGUAGE
def export_command(status: str | None, since, out_dir: Path, jobs: int | None, language: str) -> None:
    """One PDF per case plus manifest.csv (case number, file name, SHA-256), on every core."""
    with db.transaction() as session:
        numbers = export.case_numbers(session, status=CaseStatus(status) if status else None,
                                      since=since.date() if since else None)
    if not numbers:
        click.echo("No case matches; nothing exported.")
        return
    done, failed = [], []
    app = current_app._get_current_object()
    with click.progressbar(length=len(numbers), label=f"Exporting {len(numbers)} cases", file=sys.stderr) as bar:
        for result in export.export(app, numbers, out_dir, language=language, actor=cli_actor(), jobs=jobs):
            (done if isinstance(result, export.Exported) else failed).append(result)
            bar.update(1)
    manifest = export.write_manifest(out_dir, done)
    for number, error in failed:
        click.echo(f"{number}: not exported ({error})", err=True)
    click.echo(f"{len(done)} reports in {out_dir}, listed in {manifest.name}")
    if failed:
        sys.exit(1)


@export_group.command("print-copies")
def print_copies_command() -> None:
    """Make the print copy of each evidence item stored before print copies existed, so its
    reports embed it instead of decoding the photo every time (one transaction per item)."""
    with db.transaction() as session:
        pending = list(session.exec(select(Evidence.id).where(Evidence.print_sha256.is_(None)).order_by(Evidence.id)))
    made = 0
    with click.progressbar(pending, label=f"Print copies for {len(pending)} evidence items", file=sys.stderr) as bar:
        for evidence_id in bar:
            with current_app.test_request_context(), db.transaction() as session:  # messages need a language
                made += evidence.add_print_copy(session, session.get(Evidence, evidence_id), config=current_app.config,
                                                actor=cli_actor())
    click.echo(f"Made {made} print copies; {len(pending) - made} item(s) had no readable original.")
