"""Waiting for the worker, which runs in other threads or another process."""
from __future__ import annotations

import time

from sqlmodel import select

from support import db
from support.models import JobRun, JobState


def wait_for(predicate, what: str, ceiling: float = 300):
    """Poll until ``predicate()`` is truthy (the worker runs elsewhere); fail after ``ceiling`` s.

    The ceiling only stops a hung test: a passing one returns at its first true poll, and on
    a loaded machine running tests in parallel reading a photographed label alone took 50 s.
    """
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what}")


def runs(app) -> list[JobRun]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(JobRun).order_by(JobRun.id)))


def finished(app, count: int = 1, names: set[str] | None = None) -> list[JobRun]:
    """Wait for ``count`` jobs (of those ``names``) to reach a final state; returns them all."""
    final = {JobState.done, JobState.failed, JobState.skipped}

    def ready():
        found = [run for run in runs(app) if names is None or run.name in names]
        return found if sum(run.state in final for run in found) >= count else None

    return wait_for(ready, f"{count} finished job(s)")
