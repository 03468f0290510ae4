"""``flask storage migrate --to URL``: copy every stored file to another backend, then say how to switch."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from .. import db, written
from . import for_app, storage
from .migrate import migrate

storage_cli = AppGroup("storage", help="Where evidence files are stored (STORAGE_URL).")


@storage_cli.command("migrate")
@click.option("--to", "target_url", required=True,
              help="The new STORAGE_URL: s3://BUCKET[/PREFIX] (S3_ENDPOINT_URL and AWS_* as for the desk) or file:///PATH.")
def migrate_command(target_url: str) -> None:
    """Copy every stored file to TARGET and verify each; resumable. Exit 1, and do not
    switch, when any file failed."""
    source = storage()
    try:
        target = for_app(current_app, target_url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--to") from None
    if target.describe() == source.describe():
        raise click.BadParameter("that is where the files are now", param_hint="--to")
    migration = migrate(source, target, committed=_committed)
    click.echo(json.dumps(migration.as_dict(), indent=2))
    if not migration.may_switch:
        click.echo(f"Do not switch: {len(migration.failures)} file(s) failed (listed above); run the command "
                   "again once the cause is fixed.", err=True)
        raise SystemExit(1)
    if migration.missing:
        click.echo(f"{len(migration.missing)} file(s) named by evidence were missing before the copy (listed above).",
                   err=True)
    click.echo(f"Every file is in {migration.target}, verified. To switch: stop the web servers and workers, run this "
               f"command once more (it copies what arrived meanwhile), then set STORAGE_URL={target_url} "
               "everywhere and start them again. The old files stay where they were until you remove them.")


def _committed() -> dict[str, set[str]]:
    with Session(db.reader()) as session:
        return written.committed_files(session)
