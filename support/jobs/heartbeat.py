"""A worker says, every few seconds, that the jobs it runs are still running.

Without it a killed worker (SIGKILL, out of memory, power) left its jobs ``running`` until
``JOBS_LOST_RUNNING_MINUTES`` (30) had passed, longer than any task may run: evidence sat
unread for half an hour. Now the worker's heartbeat thread sets ``job_run.alive_at`` of
the jobs it holds every ``JOBS_ALIVE_SECONDS``; a running row silent for
``JOBS_LOST_SILENT_SECONDS`` has lost its worker (``rescue``). One short UPDATE per beat,
and none while the worker is idle.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import update

from .. import db
from ..models import JobRun, JobState, utcnow

log = logging.getLogger("recovery_desk.jobs")


class Heartbeat:
    """The jobs this process is running, and the thread that keeps their rows alive."""

    def __init__(self, app, interval: float):
        self.app, self.interval = app, interval
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def started(self, task_id: str) -> None:
        with self._lock:
            self._running.add(task_id)

    def ended(self, task_id: str) -> None:
        with self._lock:
            self._running.discard(task_id)

    def start(self) -> None:
        """Beat until ``stop`` (the worker command starts it: only a consumer runs jobs)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat_until_stopped, name="jobs-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
            self._thread = None

    def beat(self) -> int:
        """Mark the rows of the jobs running here alive now; returns how many."""
        with self._lock:
            running = sorted(self._running)
        if not running:
            return 0
        with db.transaction(self.app) as session:
            return session.connection().execute(
                update(JobRun).where(JobRun.task_id.in_(running), JobRun.state == JobState.running)
                .values(alive_at=utcnow())).rowcount

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # a database away for a moment: the next beat tries again
                log.exception("jobs heartbeat failed")
