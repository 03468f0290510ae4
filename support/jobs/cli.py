"""``flask --app app worker`` and ``flask --app app jobs …``: run the queue, read and retry its history."""
from __future__ import annotations

import json
import logging

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import select

from .. import db
from ..audit import Actor
from ..models import JobRun, JobState
from . import crontab, engine, history, periodic

CLI_ACTOR = Actor("cli", None, "jobs command")


@click.command("worker")
@click.option("--workers", type=int, help="Threads running jobs (default JOBS_WORKERS).")
@click.option("--no-periodic", is_flag=True, help="Do not enqueue the periodic tasks (another worker does).")
@with_appcontext
def worker_command(workers: int | None, no_periodic: bool) -> None:
    """Run jobs until stopped (Ctrl-C or TERM); start as many as you like, on any machine."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    queue = engine()
    queue.register_all()
    consumer = queue.huey.create_consumer(workers=workers or current_app.config["JOBS_WORKERS"],
                                          periodic=not no_periodic, worker_type="thread", max_delay=1.0)
    queue.heartbeat.start()  # the rows of the jobs running here stay alive while they run
    try:
        consumer.run()
    finally:
        queue.heartbeat.stop()


jobs_cli = AppGroup("jobs", help="Background jobs: their history and retries.")


@jobs_cli.command("list")
@click.option("--state", type=click.Choice([state.value for state in JobState]))
@click.option("--limit", default=50, show_default=True)
def list_command(state: str | None, limit: int) -> None:
    """The newest jobs, one JSON object a line."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if state:
        query = query.where(JobRun.state == JobState(state))
    with db.transaction() as session:
        for run in session.exec(query):
            click.echo(json.dumps({"id": run.id, "name": run.name, "args": run.args, "state": run.state.value,
                                   "attempts": run.attempts, "queued_at": run.queued_at.isoformat(),
                                   "error": (run.error or "").split("\n", 1)[0] or None}))


@jobs_cli.command("retry")
@click.argument("run_id", type=int)
def retry_command(run_id: int) -> None:
    """Queue a failed job again (audited)."""
    try:
        with db.transaction() as session:
            run = history.retry(session, run_id, actor=CLI_ACTOR)
    except history.NotRetryable:
        raise click.ClickException(f"job {run_id} is not a failed job") from None
    click.echo(f"job {run.id} ({run.name}) queued again")


@jobs_cli.command("prune")
def prune_command() -> None:
    """Delete the history older than JOBS_KEEP_DAYS (the worker does it daily)."""
    click.echo(json.dumps({"deleted": prune_history()}))


@jobs_cli.command("rescue")
def rescue_command() -> None:
    """Queue again the jobs lost on their way to the queue or in a killed worker (the worker does it every minute)."""
    from .rescue import rescue_lost_jobs

    click.echo(json.dumps({"rescued": rescue_lost_jobs()}))


@periodic(crontab(minute="15", hour="4"))
def prune_history() -> int:
    with db.transaction() as session:
        return history.prune(session, keep_days=current_app.config["JOBS_KEEP_DAYS"])


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
