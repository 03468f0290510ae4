"""One app's queue: the Huey instance its configuration names, with every task registered.

Tasks are declared once per process (``jobs.task``) but an app is built per test and per
process, so each app gets its own Huey whose task wrappers run the declared function
inside that app's context.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper

from ..config import ConfigError
from . import history
from .heartbeat import Heartbeat

if TYPE_CHECKING:
    from . import Task

log = logging.getLogger("recovery_desk.jobs")


def make_huey(config: dict, instance_path: str) -> Huey:
    """SQLite in the instance folder unless ``JOBS_URL`` names Redis (or another SQLite file)."""
    url = config.get("JOBS_URL") or f"sqlite:///{Path(instance_path) / 'jobs.sqlite'}"
    name = config.get("JOBS_NAME") or "recovery-desk"
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=30)
    raise ConfigError(f"JOBS_URL must be redis://… or sqlite:///…, not {url!r}")


class Engine:
    """The app's Huey and its wrappers of the declared tasks."""

    def __init__(self, app: Flask, tasks: dict[str, Task]):
        self.app = app
        self.huey = make_huey(app.config, app.instance_path)
        self._declared = tasks
        self._wrappers: dict[str, TaskWrapper] = {}
        self.heartbeat = Heartbeat(app, app.config["JOBS_ALIVE_SECONDS"])
        history.connect(self)

    def wrapper(self, name: str) -> TaskWrapper:
        """The Huey task for ``name``, registered on first use (a task declared after the app)."""
        if name not in self._wrappers:
            self._wrappers[name] = self._wrap(self._declared[name])
        return self._wrappers[name]

    def register_all(self) -> None:
        """Before the consumer starts: it runs only what is registered, periodic tasks included."""
        for name in list(self._declared):
            self.wrapper(name)

    def _wrap(self, declared: Task) -> TaskWrapper:
        app = self.app

        def run(*args):
            with app.app_context():
                return declared.func(*args)

        options = {"retries": declared.retries, "retry_delay": declared.retry_delay,
                   "retry_backoff": declared.backoff, "name": declared.name}
        if declared.schedule is None:
            return self.huey.task(**options)(run)
        return self.huey.periodic_task(declared.schedule, **options)(run)

    def send(self, task_id: str, name: str, args: list) -> None:
        """Put one job on the queue; if the queue refuses it, its row says so (never raises)."""
        try:
            self.huey.enqueue(self.wrapper(name).s(*args, id=task_id))
        except Exception as error:  # the row keeps the work: an admin retries it
            log.exception("job %s (%s) could not be queued", task_id, name)
            history.not_queued(self, task_id, error)

    def name_of(self, huey_task) -> str:
        """The declared name of a Huey task object (its class carries it)."""
        return type(huey_task).__name__
