"""Control characters are refused before any view runs.

A NUL byte cannot be stored in a PostgreSQL text column (the driver raises, the request
would answer 500), and no other control character belongs in a name, an email address, a
filter or a token. Multi-line text (messages, notes, a JSON description) keeps its tabs
and line breaks.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from ..refusals import Refused

#: what a multi-line text may carry
LINE_BREAKS = frozenset("\t\r\n")


class ControlCharacterRefused(Refused):
    """A field carried a control character; nothing was read further."""

    status = 400


def has_control(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in text)


def _fields() -> Iterator[tuple[str, str, frozenset[str]]]:
    """(field, text, characters allowed) for the query, the form, uploads and a JSON body."""
    for name, value in request.args.items(multi=True):
        yield name, name + value, frozenset()
    for name, value in request.form.items(multi=True):  # a multipart part may have no name
        yield name, name or "", frozenset()
        yield name, value, LINE_BREAKS
    for name, upload in request.files.items(multi=True):
        yield name, (name or "") + (upload.filename or ""), frozenset()
    if request.is_json:
        yield from _json_strings(request.get_json(silent=True), "")


def _json_strings(value, field: str) -> Iterator[tuple[str, str, frozenset[str]]]:
    if isinstance(value, str):
        yield field, value, LINE_BREAKS
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, key, frozenset()
            yield from _json_strings(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, field)


def refuse_control_characters() -> None:
    """400 for a field with a control character; 404 for a path with one, which names nothing."""
    # the API answers an impossible case number with the 404 of an unknown one (api/auth.py)
    paths = {} if request.path.startswith("/api/") else request.view_args or {}
    if any(isinstance(value, str) and has_control(value) for value in paths.values()):
        raise NotFound()
    for field, text, allowed in _fields():
        if has_control(text, allowed):
            raise ControlCharacterRefused(
                "control_character",
                _("A field contains a control character (such as a NUL byte) that text cannot carry. "
                  "Remove it and send the form again."),
                field or None)


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)
