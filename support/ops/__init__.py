"""What operators see: ``/metrics``, ``/healthz`` and ``/readyz``, the request id on every
response, and log lines as JSON (``LOG_FORMAT=json``). See docs/operations.md."""
from __future__ import annotations

import time

from flask import Flask, g

from ..web import request_id
from . import logs, metrics
from .views import bp


def init_app(app: Flask) -> None:
    """Call before the database's hooks: ``after_request`` runs in reverse order, so the
    timing then includes the request's commit."""
    logs.configure(app)
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    g.started = time.perf_counter()
    request_id()


def _finish(response):
    duration = time.perf_counter() - g.pop("started", time.perf_counter())
    metrics.observe(response.status_code, duration)
    logs.access(response.status_code, duration)
    response.headers.setdefault("X-Request-Id", request_id())
    return response
