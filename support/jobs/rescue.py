"""Lost jobs come back: the rows of ``job_run`` that no worker will ever finish are queued again.

A job can be lost in three ways, and ``job_run`` (written with the change that made the
job necessary) still has its work in each:

- the process died between the commit and the hand-off to the queue, or the queue
  refused the job (``history.not_queued``): the row is ``queued`` (or ``failed`` with
  "not queued" and no attempt) and the queue does not hold it;
- the worker was killed while it ran the job (SIGKILL, power, out of memory): the queue
  had already handed it over, and the row stays ``running``, its heartbeat silent
  (``heartbeat``);
- the worker was stopped while it ran it (Huey's "interrupted"): ``history`` queues it again
  at once.

``rescue`` (every minute on the worker, ``rescue_lost_jobs``) sends the first two
kinds again with the same task id: a ``queued`` row older than ``JOBS_LOST_QUEUED_MINUTES``
that is neither pending nor scheduled on the queue, and a ``running`` row whose worker has
not said it runs it for ``JOBS_LOST_SILENT_SECONDS`` or that started more than
``JOBS_LOST_RUNNING_MINUTES`` ago (longer than any task may run: every reader has its own
time limit). Tasks are idempotent, so a job that was only slow runs twice, harmlessly. A
job lost ``MAX_RESCUES`` times (it kills its worker each time) is marked ``failed`` for an
admin instead of looping. Each move is a compare-and-set, so two workers rescuing at once
send a job once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, select

from .. import db
from ..models import JobRun, JobState, utcnow
from . import crontab, engine, periodic, remember

log = logging.getLogger("recovery_desk.jobs")

#: a job lost this many times (counted in ``attempts`` beyond its retries) is left to an admin
MAX_RESCUES = 3
NOT_QUEUED = "not queued:"


def rescue(session: Session, *, queued_minutes: int, running_minutes: int, silent_seconds: float,
           now: datetime | None = None) -> list[JobRun]:
    """Queue again, after ``session`` commits, the one-off jobs no worker will finish; returns them."""
    now = now or utcnow()
    on_queue = _on_queue()  # read before the rows: a job taken off the queue since is ``running`` by then
    candidates = session.exec(select(JobRun).where(JobRun.periodic.is_(False), or_(
        and_(JobRun.state == JobState.queued, JobRun.queued_at < now - timedelta(minutes=queued_minutes)),
        and_(JobRun.state == JobState.running, or_(
            JobRun.started_at < now - timedelta(minutes=running_minutes),
            func.coalesce(JobRun.alive_at, JobRun.started_at) < now - timedelta(seconds=silent_seconds))),
        and_(JobRun.state == JobState.failed, JobRun.attempts == 0, JobRun.error.startswith(NOT_QUEUED)),
    )).order_by(JobRun.id)).all()
    rescued = []
    for run in candidates:
        if run.state == JobState.queued and run.task_id in on_queue:
            continue  # waiting behind other work: not lost
        if run.name not in _declared():
            continue  # a task this version no longer has: nothing could run it
        rescued += _requeue(session, run, now)
    return rescued


def _requeue(session: Session, run: JobRun, now: datetime) -> list[JobRun]:
    """Move ``run`` back to ``queued`` if it is still as it was read (compare-and-set) and send it."""
    lost = "not on the queue" if run.state != JobState.running else "its worker was lost while it ran"
    limit = _declared()[run.name].retries + 1 + MAX_RESCUES
    given_up = run.attempts >= limit
    values = ({"state": JobState.failed, "finished_at": now,
               "error": f"lost {MAX_RESCUES} times ({lost}): left for an admin to retry"} if given_up else
              {"state": JobState.queued, "queued_at": now, "started_at": None,
               "error": f"rescued: {lost} ({run.state.value} since "
                        f"{(run.started_at or run.queued_at):%Y-%m-%d %H:%M} UTC)"})
    moved = session.connection().execute(
        update(JobRun).where(JobRun.id == run.id, JobRun.state == run.state, JobRun.attempts == run.attempts)
        .values(**values))
    if moved.rowcount != 1:
        return []
    session.refresh(run)
    if given_up:
        log.error("job %s (%s) lost too often: marked failed", run.id, run.name)
        return []
    log.warning("job %s (%s): %s, queued again", run.id, run.name, lost)
    remember(session, run)
    return [run]


def _on_queue() -> set[str]:
    """The ids of the jobs the queue holds, waiting or scheduled for a retry."""
    huey = engine().huey
    engine().register_all()  # the queue decodes only the tasks it knows
    return {task.id for task in huey.pending()} | {task.id for task in huey.scheduled()}


def _declared() -> dict:
    from . import registered

    return registered()


@periodic(crontab(minute="*"))
def rescue_lost_jobs() -> int:
    """Every minute, on the worker: queue again the jobs lost on their way or in a killed worker."""
    config = engine().app.config
    with db.transaction() as session:
        return len(rescue(session, queued_minutes=config["JOBS_LOST_QUEUED_MINUTES"],
                          running_minutes=config["JOBS_LOST_RUNNING_MINUTES"],
                          silent_seconds=config["JOBS_LOST_SILENT_SECONDS"]))
