"""Log lines for operators: with ``LOG_FORMAT=json`` every line is one JSON object.

Fields: ``time`` (UTC), ``level``, ``logger``, ``message``; inside a request also
``request_id``, ``method``, ``path``, ``endpoint`` and ``remote_addr``; the access line
(logger ``recovery_desk.access``, one per request) adds ``status`` and ``duration_ms``; an
exception adds ``exception``. The web server, the worker and gunicorn's own lines
(``support/ops/gunicorn.py``) share the format.

No personal data: query strings are never logged (private links carry their token
there), a private path segment (a ``<token>`` in the URL rule, or anything token-like
in a path no rule matched) reads ``[redacted]``, and email addresses in messages and
tracebacks read ``[email]``.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

access_log = logging.getLogger("recovery_desk.access")

#: URL rule arguments that are secrets (private links)
SECRET_ARGUMENTS = frozenset({"token"})
#: a path segment that looks like a token: long, of URL-safe characters
TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_.~=-]{24,}$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[redacted]"
#: what the access line adds to a record (``extra``)
ACCESS_FIELDS = ("status", "duration_ms")


def redact(text: str) -> str:
    return EMAIL.sub("[email]", text)


def safe_path() -> str:
    """The request's path with its private segments redacted (never the query string)."""
    secrets = {str(value) for name, value in (request.view_args or {}).items() if name in SECRET_ARGUMENTS}
    segments = [REDACTED if segment in secrets or TOKEN_LIKE.match(segment) else segment
                for segment in request.path.split("/")]
    return redact("/".join(segments))


def request_fields() -> dict:
    return {"request_id": g.get("request_id"), "method": request.method, "path": safe_path(),
            "endpoint": request.endpoint, "remote_addr": request.remote_addr}


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        if has_request_context():
            entry.update(request_fields())
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, a re-opened stream)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(app: Flask) -> None:
    """With ``LOG_FORMAT=json``: one JSON handler on the root logger (once per process),
    INFO and above, werkzeug's own request lines off (they carry query strings)."""
    if app.config["LOG_FORMAT"] != "json":
        return
    root = logging.getLogger()
    if not any(isinstance(handler, StderrHandler) for handler in root.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def access(status: int, duration: float) -> None:
    """The request's access line (the JSON formatter adds the request's fields)."""
    access_log.info("%s %s %s", request.method, safe_path(), status,
                    extra={"status": status, "duration_ms": round(duration * 1000, 2)})
