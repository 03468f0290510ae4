"""``flask --app app backup OUT``, ``backup verify IN`` and ``restore IN``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import archive, create, database, restore


class _BackupGroup(AppGroup):
    """``backup OUT`` takes a backup; ``backup verify IN`` checks one (a folder named
    ``verify`` is ``backup ./verify``)."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_cli = _BackupGroup("backup", help="Back up the desk: `backup OUT [--with-files]`, `backup verify IN`.")

FAILURES = (archive.BackupError, database.DatabaseCopyError, restore.RestoreRefused)


@backup_cli.command("create")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--with-files", is_flag=True, help="Copy the stored files too (not only their list).")
def create_command(out: Path, with_files: bool) -> None:
    """Write a backup to OUT: a new folder, or one file when OUT ends in .tar."""
    try:
        taken = create.take(current_app, out, with_files=with_files)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    files = "copied" if taken.files_included else "listed (not copied: --with-files copies them)"
    click.echo(f"backup written to {taken.out}: {taken.kind} database ({taken.database_bytes} bytes), "
               f"{taken.witness_lines} witness lines, {taken.files} stored files ({taken.files_bytes} bytes) {files}")


@backup_cli.command("verify")
@click.argument("source", metavar="IN", type=click.Path(exists=True, path_type=Path))
def verify_command(source: Path) -> None:
    """Check a backup: the manifest's signature and every member's SHA-256; exit 1 naming what is wrong."""
    try:
        manifest, problems = restore.verify(current_app, source)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    if problems:
        for problem in problems:
            click.echo(f"backup BROKEN: {problem}", err=True)
        sys.exit(1)
    click.echo(f"backup intact: taken {manifest['created_at']}, {manifest['database']['kind']} database, "
               f"{manifest['storage']['files']} stored files")


@click.command("restore")
@with_appcontext
@click.argument("source", metavar="IN", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data (and set its witness file aside).")
@click.option("--erasures", "ledgers", multiple=True, type=click.Path(path_type=Path),
              help="An erasure ledger (ERASURE_LEDGER_FILE) of any machine of the desk; repeat for each. "
                   "Default: this machine's.")
def restore_command(source: Path, force: bool, ledgers: tuple[Path, ...]) -> None:
    """Restore a backup into an empty desk, erase again the cases erased since it was taken,
    check the stored files and verify the audit trail; exit 1 when a file is missing or
    corrupt or the trail does not verify."""
    try:
        restored = restore.restore(current_app, source, force=force, ledgers=list(ledgers) or None)
    except FAILURES as error:
        raise click.ClickException(str(error)) from error
    manifest = restored.manifest
    click.echo(f"restored the backup taken {manifest['created_at']} ({manifest['database']['kind']} database)")
    if restored.witness_kept_aside:
        click.echo(f"the witness file that was there is kept as {restored.witness_kept_aside}")
    click.echo(f"stored files: {manifest['storage']['files']} listed, {restored.files_written} written, "
               f"{len(restored.problems)} problems")
    if restored.ledgers:
        click.echo(f"erased again (erased after the backup was taken): {len(restored.erased_again)}"
                   f"{': ' + ', '.join(restored.erased_again) if restored.erased_again else ''}")
    else:
        click.echo("no erasure ledger: cases erased after this backup was taken are NOT erased again "
                   "(give each machine's ERASURE_LEDGER_FILE with --erasures)", err=True)
    for problem in restored.problems:
        click.echo(f"stored file {problem}", err=True)
    verdict = restored.verdict
    if verdict.ok:
        click.echo(f"audit trail intact: {verdict.count} events, head {verdict.head_hash}")
    else:
        click.echo(f"audit trail BROKEN at sequence {verdict.bad_seq}: {verdict.problem}", err=True)
    if restored.altered:
        click.echo("personal values ALTERED (they do not match their fingerprints) of: "
                   f"{', '.join(restored.altered)}", err=True)
    if not restored.ok:
        sys.exit(1)
