"""The review desk's housekeeping: hourly on the worker, and ``flask --app app cases sweep``."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from .. import cases, db, jobs
from .blueprint import bp
from .notify import email_claimant

cases_cli = AppGroup("cases", help="Review desk housekeeping.")


@cases_cli.command("sweep")
def sweep() -> None:
    """Remind waiting claimants, close unanswered cases, flag SLA breaches (safe to re-run)."""
    click.echo(json.dumps(sweep_cases()))


@jobs.periodic(jobs.crontab(minute="0"))
def sweep_cases() -> dict:
    """Hourly on the worker. Two sweeps at once cannot both remind a claimant: the second
    one's update of the same case fails its version check and rolls back."""
    config = current_app.config
    days_left = config["AUTO_CLOSE_AFTER_DAYS"] - config["REMIND_AFTER_DAYS"]
    with db.transaction() as session:
        result = cases.sweep(session, config=config)
        for case in result.reminded:  # emails leave only once the sweep commits
            email_claimant(session, case, template="reminder", days_left=days_left,
                           subject=_l("We are waiting for your answer on case %(number)s"))
        for case in result.closed:
            email_claimant(session, case, template="closed", subject=_l("Case %(number)s was closed"))
    return {"reminded": len(result.reminded), "closed": len(result.closed), "sla_breached": len(result.breached)}


bp.cli.add_command(cases_cli)
