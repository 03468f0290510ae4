"""gunicorn settings for the desk: ``gunicorn -c python:support.ops.gunicorn app:app``.

- gunicorn's own access log stays off (its default): the app writes one access line per
  request itself, with the request id, the endpoint and a path without secrets.
- With ``LOG_FORMAT=json`` gunicorn's own lines (start, worker boot, errors) are JSON too.
- With ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder the server may write), every worker's
  request metrics are summed on /metrics; the folder is emptied at start and a dead
  worker's live figures are dropped.
- Once a worker has loaded the app, the objects it made are frozen out of the garbage
  collector's reach (``gc.freeze``): they live as long as the worker, and a full collection
  that walked all ~200,000 of them held a request up for about 100 ms.
"""
from __future__ import annotations

import gc
import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = None

if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "support.ops.logs.JsonFormatter"}},
        # the app's own handler class: the app then adds no second one (support.ops.logs.configure)
        "handlers": {"stderr": {"class": "support.ops.logs.StderrHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                    # a logging config turns gunicorn's access lines on; they carry query strings: drop them
                    "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False}},
    }


def on_starting(_server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(_server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(_worker) -> None:
    gc.freeze()
