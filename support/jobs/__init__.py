"""Background jobs: a Huey queue configured from the app, with a history admins can read.

Declare a task at import time, in the module whose work it does::

    from support import db, jobs

    @jobs.task(retries=5, retry_delay=30)
    def analyse_upload(evidence_id: int) -> None:
        with db.transaction() as session:  # the worker runs it inside an app context
            ...

and queue it in the transaction that makes it necessary::

    jobs.enqueue_after_commit(session, analyse_upload, evidence.id)

The job reaches the queue only after the outermost transaction of ``session`` commits
(a savepoint's commit does not count, its rollback drops the jobs queued in it), like the
mail outbox: a rolled-back request queues
nothing, and the worker never looks for a row that is not committed. Its ``job_run`` row
is written in that same transaction, so the work it stands for (``name`` and ``args``) is
kept whatever happens next: a job that fails for the last time, or that the queue could
not take, is marked ``failed`` with its error and can be run again from ``/admin/jobs`` or
with ``flask --app app jobs retry ID``.

Arguments must be JSON values (ids, not rows): the worker reads the current state itself.
A task must be idempotent: it is retried with a pause that grows (``retry_delay`` seconds,
times ``backoff`` after each failure) when it raises, an admin may run it again, and a
periodic task (``jobs.periodic``) may run on two workers in the same minute. Calling a
task runs it here and now (tests, commands).

Storage: SQLite in ``instance/jobs.sqlite`` by default; ``JOBS_URL=redis://host:6379/0``
when several machines run workers. ``flask --app app worker`` runs the consumer
(``JOBS_WORKERS`` threads and the scheduler of periodic tasks); ``make run`` starts one
beside the web server. See docs/operations.md.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app
from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from ..models import JobRun
from .engine import Engine

__all__ = ["Task", "task", "periodic", "crontab", "enqueue_after_commit", "enqueue", "engine", "registered"]

_PENDING = "jobs.pending"
#: every task declared so far, by name; each app's engine registers them with its queue
_TASKS: dict[str, "Task"] = {}


@dataclass(frozen=True)
class Task:
    """A function the worker runs, with how often it is retried (and when, if periodic)."""

    name: str
    func: Callable[..., Any]
    retries: int
    retry_delay: float
    backoff: float
    schedule: Callable | None = None

    def __call__(self, *args):
        return self.func(*args)


def task(retries: int = 5, retry_delay: float = 10, backoff: float = 2) -> Callable[[Callable], Task]:
    """Register the decorated function as a task (see the module's docstring)."""
    return lambda func: _register(Task(_name(func), func, retries, retry_delay, backoff))


def periodic(schedule: Callable, retries: int = 0) -> Callable[[Callable], Task]:
    """Register a task the worker's scheduler enqueues by itself (``schedule`` is a ``crontab``).

    It takes no arguments and must be safe to run twice at once: with several workers each
    scheduler enqueues it. Without retries by default, since its next run redoes the work.
    """
    return lambda func: _register(Task(_name(func), func, retries, 10, 2, schedule))


def registered() -> dict[str, Task]:
    return dict(_TASKS)


def _name(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _register(declared: Task) -> Task:
    _TASKS[declared.name] = declared
    return declared


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["jobs"]


def enqueue_after_commit(session: Session, job: Task, *args) -> JobRun:
    """Queue ``job(*args)`` once ``session``'s transaction commits; returns its ``job_run`` row."""
    json.dumps(args)  # what the queue could not replay is refused now, not in the worker
    run = JobRun(task_id=uuid.uuid4().hex, name=job.name, args=list(args), periodic=job.schedule is not None)
    session.add(run)
    session.flush()
    remember(session, run)
    return run


def remember(session: Session, run: JobRun) -> None:
    """Send ``run`` once ``session`` commits, unless the savepoint it was queued in rolls back."""
    session.info.setdefault(_PENDING, []).append(
        (engine(), run.task_id, run.name, list(run.args), session.get_nested_transaction()))


def enqueue(job: Task, *args) -> str:
    """Queue ``job(*args)`` now, outside any transaction (commands, tests); returns its task id."""
    from .. import db

    with db.transaction() as session:
        run = enqueue_after_commit(session, job, *args)
    return run.task_id


@event.listens_for(OrmSession, "after_commit")
def _send_after_commit(session: OrmSession) -> None:
    """The outermost transaction committed: hand its jobs to the queue."""
    if session.in_nested_transaction():
        return
    for job_engine, task_id, name, args, _savepoint in session.info.pop(_PENDING, ()):
        job_engine.send(task_id, name, args)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_rolled_back(session: OrmSession, previous_transaction) -> None:
    """Rolled back: those jobs and their rows are gone; a savepoint's rollback forgets only
    the jobs queued inside it."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
    elif _PENDING in session.info:
        session.info[_PENDING] = [pending for pending in session.info[_PENDING]
                                  if not _inside(pending[4], previous_transaction)]


def _inside(transaction, savepoint) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def init_app(app: Flask) -> None:
    from . import cli, rescue, views  # the commands, the history's pruning, lost jobs' rescue, the jobs page

    app.extensions["jobs"] = Engine(app, _TASKS)
    app.register_blueprint(views.bp)
    cli.init_app(app)
