"""The ``job_run`` table: what each job is doing, written from the worker's Huey signals.

Huey forgets a job once it ran; admins need to see what is queued, running and failed
(with the error), and a failure must keep the work it was for. So the enqueuing
transaction writes the row (``jobs.enqueue_after_commit``), the scheduler writes it for a
periodic run, and the worker moves it along: running, done, retrying, failed. Each update
is a short transaction of its own. Finished rows are pruned after ``JOBS_KEEP_DAYS``; a
failed one-off job stays until it is retried (a periodic one is redone by its next run).
"""
from __future__ import annotations

import traceback
from datetime import timedelta
from typing import TYPE_CHECKING

from huey import signals as S
from huey.api import PeriodicTask
from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, select

from .. import audit, db
from ..models import JobRun, JobState, utcnow

if TYPE_CHECKING:
    from .engine import Engine

#: the longest error text kept (the traceback's end, where the cause is)
MAX_ERROR = 8000


def connect(engine: Engine) -> None:
    """Follow ``engine``'s jobs in ``job_run``."""
    app = engine.app

    def write(task_id: str, **values) -> None:
        with db.transaction(app) as session:
            session.connection().execute(update(JobRun).where(JobRun.task_id == task_id).values(**values))

    def enqueued(_signal, task) -> None:
        if not isinstance(task, PeriodicTask):
            return  # a one-off job's row was written with the change that queued it
        with db.transaction(app) as session:
            if session.exec(select(JobRun.id).where(JobRun.task_id == task.id)).first() is None:
                session.add(JobRun(task_id=task.id, name=engine.name_of(task), args=list(task.args), periodic=True))

    def executing(_signal, task) -> None:
        now = utcnow()
        write(task.id, state=JobState.running, attempts=JobRun.attempts + 1, started_at=now, alive_at=now,
              finished_at=None)
        engine.heartbeat.started(task.id)

    def complete(_signal, task) -> None:
        engine.heartbeat.ended(task.id)
        write(task.id, state=JobState.done, finished_at=utcnow())

    def error(_signal, task, exception=None) -> None:
        engine.heartbeat.ended(task.id)
        final = not task.retries  # Huey decides after this signal: retries left means another try
        write(task.id, state=JobState.failed if final else JobState.retrying, error=describe(exception),
              finished_at=utcnow() if final else None)

    def stopped(signal, task) -> None:
        engine.heartbeat.ended(task.id)
        if signal == S.SIGNAL_INTERRUPTED and not isinstance(task, PeriodicTask):
            # its work is not done: the next rescue (``rescue``) queues it again, no admin needed
            write(task.id, state=JobState.queued, started_at=None,
                  error="interrupted: the worker stopped while it ran; queued again by the next rescue")
            return
        write(task.id, state=JobState.failed, finished_at=utcnow(),
              error="the worker stopped while it ran" if signal == S.SIGNAL_INTERRUPTED else f"{signal}")

    def locked(_signal, task) -> None:
        write(task.id, state=JobState.skipped, finished_at=utcnow())

    huey = engine.huey
    huey.signal(S.SIGNAL_ENQUEUED)(enqueued)
    huey.signal(S.SIGNAL_EXECUTING)(executing)
    huey.signal(S.SIGNAL_COMPLETE)(complete)
    huey.signal(S.SIGNAL_ERROR)(error)
    huey.signal(S.SIGNAL_INTERRUPTED, S.SIGNAL_TIMEOUT, S.SIGNAL_EXPIRED, S.SIGNAL_REVOKED,
                S.SIGNAL_CANCELED)(stopped)
    huey.signal(S.SIGNAL_LOCKED)(locked)


def describe(exception: BaseException | None) -> str:
    if exception is None:
        return "failed"
    text = "".join(traceback.format_exception(exception))
    head = f"{type(exception).__name__}: {exception}"
    return (head + "\n\n" + text[-(MAX_ERROR - len(head)):])[:MAX_ERROR]


def not_queued(engine: Engine, task_id: str, error: Exception) -> None:
    """The queue refused the job after its transaction committed: keep it as failed."""
    try:
        with db.transaction(engine.app) as session:
            session.connection().execute(
                update(JobRun).where(JobRun.task_id == task_id)
                .values(state=JobState.failed, finished_at=utcnow(), error=f"not queued: {describe(error)}"))
    except Exception:
        engine.app.logger.exception("job %s: could not record that it was not queued", task_id)


class NotRetryable(Exception):
    """Only a failed job is retried (a queued or running one would run twice)."""


def retry(session: Session, run_id: int, *, actor: audit.Actor, origin: audit.Origin | None = None) -> JobRun:
    """Queue a failed job again, after ``session`` commits, with the same work and id; audited.

    The state moves by compare-and-set, so two admins pressing retry at once queue it once.
    """
    from . import remember

    moved = session.connection().execute(
        update(JobRun).where(JobRun.id == run_id, JobRun.state == JobState.failed)
        .values(state=JobState.queued, queued_at=utcnow(), finished_at=None))
    if moved.rowcount != 1:
        raise NotRetryable(run_id)
    run = session.get(JobRun, run_id)
    session.refresh(run)
    audit.record(session, actor=actor, action="job.retried", subject=("job", run.id),
                 before={"state": JobState.failed.value, "attempts": run.attempts},
                 after={"state": run.state.value, "name": run.name}, origin=origin)
    remember(session, run)
    return run


def prune(session: Session, *, keep_days: int, now=None) -> int:
    """Delete finished rows older than ``keep_days``: done and skipped ones, and failed
    periodic runs (their next run redoes the work); a failed one-off job stays."""
    before = (now or utcnow()) - timedelta(days=keep_days)
    finished = or_(JobRun.state.in_((JobState.done, JobState.skipped)),
                   and_(JobRun.state == JobState.failed, JobRun.periodic.is_(True)))
    result = session.connection().execute(
        delete(JobRun).where(finished, JobRun.finished_at < before))
    return result.rowcount
