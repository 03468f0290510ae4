"""``flask --app app cases sweep``: the cron job of the review desk."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from .. import cases, db
from .blueprint import bp
from .notify import email_claimant

cases_cli = AppGroup("cases", help="Review desk housekeeping.")


@cases_cli.command("sweep")
def sweep() -> None:
    """Remind waiting claimants, close unanswered cases, flag SLA breaches (safe to re-run)."""
    config = current_app.config
    days_left = config["AUTO_CLOSE_AFTER_DAYS"] - config["REMIND_AFTER_DAYS"]
    with db.transaction() as session:
        result = cases.sweep(session, config=config)
        for case in result.reminded:  # emails leave only once the sweep commits
            email_claimant(session, case, template="reminder", days_left=days_left,
                           subject=_l("We are waiting for your answer on case %(number)s"))
        for case in result.closed:
            email_claimant(session, case, template="closed", subject=_l("Case %(number)s was closed"))
    click.echo(json.dumps({"reminded": len(result.reminded), "closed": len(result.closed),
                           "sla_breached": len(result.breached)}))


bp.cli.add_command(cases_cli)
