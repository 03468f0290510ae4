"""``flask --app app retention run`` and ``flask --app app erasure find|erase``: the data
protection commands, for cron and for a data-protection officer at a terminal."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from .. import audit, cases, db, erasure, retention

CLI_ACTOR = audit.Actor("cli", None, "command line")

retention_cli = AppGroup("retention", help="Erase the personal data of cases closed long ago (RETENTION_DAYS).")
erasure_cli = AppGroup("erasure", help="Find a claimant's cases and erase their personal data.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only list the cases that would be erased.")
def run_retention(dry_run: bool) -> None:
    """Erase every case closed more than RETENTION_DAYS ago, one transaction per case (safe to re-run)."""
    days = current_app.config["RETENTION_DAYS"]
    outcome = retention.run(days=days, actor=CLI_ACTOR, dry_run=dry_run)
    key = "due" if dry_run else "erased"
    click.echo(json.dumps({"retention_days": days, key: outcome.erased, "skipped": outcome.skipped}))


@erasure_cli.command("find")
@click.argument("query")
def find(query: str) -> None:
    """The cases of a claimant (email, phone number or case number), one JSON line each."""
    with Session(db.reader()) as session:
        for case in erasure.cases_of_claimant(session, query):
            click.echo(json.dumps({"number": case.number, "kind": case.kind.value, "status": case.status.value,
                                   "created_at": case.created_at.isoformat(),
                                   "erased_at": case.erased_at.isoformat() if case.erased_at else None}))


@erasure_cli.command("erase")
@click.argument("number")
@click.option("--reason", required=True, help="The request or ticket this answers (no personal data in it).")
@click.option("--open-too", is_flag=True, help="Also erase a case that is not closed: its open actions are "
                                                "cancelled and it is closed.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(number: str, reason: str, open_too: bool, yes: bool) -> None:
    """Erase one case's personal data (audited as the command line); a second run changes nothing."""
    if not yes:
        click.confirm(f"Erase the personal data of {number}? This cannot be undone", abort=True)
    with db.transaction() as session:
        case = cases.get_by_number(session, number)
        if case is None:
            raise click.ClickException(f"no case {number}")
        try:
            erased = erasure.erase_case(session, case, actor=CLI_ACTOR, reason=reason, open_too=open_too)
        except erasure.ErasureRefused as refusal:
            raise click.ClickException(refusal.message) from None
    click.echo(json.dumps({"number": case.number, "erased": erased is not None,
                           **({"counts": erased.counts} if erased else {"already_erased": True})}))


@erasure_cli.command("account")
@click.argument("account_id", type=int)
@click.option("--reason", required=True, help="The request or ticket this answers (no personal data in it).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_account(account_id: int, reason: str, yes: bool) -> None:
    """Erase what the desk keeps of an account holder (audited as the command line): the trail's
    values of ``account:ID``, the contacts recorded for the account, mail naming them."""
    if not yes:
        click.confirm(f"Erase what the desk keeps of account {account_id}? This cannot be undone", abort=True)
    with db.transaction() as session:
        try:
            counts = erasure.erase_account_holder(session, account_id, actor=CLI_ACTOR, reason=reason)
        except erasure.ErasureRefused as refusal:
            raise click.ClickException(refusal.message) from None
    click.echo(json.dumps({"account": account_id, **counts}))
