"""The API's refusals: an HTTP status, a stable machine-readable code, a message, a field.

The app's one error handler (``support/errors.py``) turns these into the JSON body
``{"error": {"code", "message", "field"}}``; nothing here renders anything.
"""
from __future__ import annotations

from werkzeug.exceptions import HTTPException


class ApiError(HTTPException):
    """A refused API request; ``field`` names the form or JSON field at fault, if any."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(description=message)
        self.code = status
        self.api_code = code
        self.api_message = message
        self.field = field

