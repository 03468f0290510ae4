"""One base for every refusal the desk gives: a stable code, a message for people, a field.

A ``Refused`` raised while a request runs is turned into a rollback in one place
(``support/db.py``): nothing the refused request wrote commits, whatever response the view
or the error handler then sends. What must outlive the rollback (the audit event of a
refused privileged attempt, a one-time code spent on it) is registered with
``db.keep_when_refused`` and written in its own short transaction afterwards.
"""
from __future__ import annotations


class Refused(Exception):
    """A request the desk will not carry out; ``status`` is the HTTP status it answers with."""

    status = 422

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
