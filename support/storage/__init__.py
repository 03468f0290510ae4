"""Where evidence files live: one interface, a local folder or an S3-compatible bucket.

Files are named by the SHA-256 of their bytes, never by the user's file name, and every
write is all or nothing, so a crash leaves no half file. Areas keep kinds apart:
``originals`` (evidence exactly as uploaded, never served inline), ``viewable``
(re-encoded copies agents look at), ``thumbnails``, ``print`` (the JPEGs case reports
embed), ``pages`` (a PDF's pages drawn for the viewer: a cache, named by what each was
drawn from rather than by its bytes, see ``put``).

``STORAGE_URL`` chooses the backend (``make_storage``): empty for the folder ``UPLOAD_DIR``
(the default), ``file:///path`` for another folder, ``s3://bucket[/prefix]`` for a
private bucket reached with the ``S3_*``/``AWS_*`` settings. Every caller goes through
``Storage``; none reaches a path, a key or a listing of its own, so a backend can be
swapped (``flask storage migrate``) without changing a caller.
"""
from __future__ import annotations

import os
import threading
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Iterator, Mapping, NamedTuple, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

AREAS = ("originals", "viewable", "thumbnails", "print", "pages")
#: bytes per piece when a file is streamed (``chunks``): enough for libmagic to sniff the first
CHUNK_BYTES = 256 * 1024
_HEX = frozenset("0123456789abcdef")


class Entry(NamedTuple):
    """One stored file as a listing shows it."""

    name: str
    #: when it was written or last marked in use (``touch``), timezone-aware UTC
    last_modified: datetime


class Storage(Protocol):
    """What every backend offers. A missing file raises ``FileNotFoundError`` on reading."""

    def store(self, area: str, data: bytes) -> str:
        """Store ``data`` under its SHA-256 (a no-op when there); returns the SHA-256."""

    def put(self, area: str, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` (64 hex digits), for a cache named by its source."""

    def open(self, area: str, name: str) -> bytes:
        """The whole file."""

    def chunks(self, area: str, name: str) -> Iterator[bytes]:
        """The file in pieces of ``CHUNK_BYTES``, for serving large originals. The file is
        opened now (``FileNotFoundError`` now, not while iterating)."""

    def exists(self, area: str, name: str) -> bool: ...

    def delete(self, area: str, name: str) -> None:
        """Remove the file; nothing happens when it is not there."""

    def touch(self, area: str, name: str) -> bool:
        """Mark the file in use now (its ``last_modified``) so a purge of old unreferenced
        files spares it; False when it is not there (nothing is created)."""

    def entries(self, area: str) -> Iterator[Entry]:
        """Every file of ``area``, in no particular order."""

    def remove_incomplete(self, before: datetime) -> int:
        """Delete what interrupted writes left that is older than ``before``; how many."""

    def locked(self) -> AbstractContextManager[None]:
        """Held while deciding whether a shared file may go (``written``, purge, migrate):
        one holder at a time among every process that uses this storage, on any machine."""

    def describe(self) -> str:
        """The ``STORAGE_URL`` that names this storage (no credentials)."""


def valid_name(name: str) -> bool:
    return isinstance(name, str) and len(name) == 64 and set(name) <= _HEX


def check(area: str, name: str) -> None:
    """Refuse an unknown area or a name that is not 64 lowercase hex digits (``ValueError``)."""
    if area not in AREAS or not valid_name(name):
        raise ValueError("unknown storage area or malformed SHA-256")


def make_storage(url: str | None, *, config: Mapping, lock=None) -> Storage:
    """The storage ``url`` names (empty: the folder ``UPLOAD_DIR``). ``lock`` makes
    ``locked()`` of a bucket (``locks.for_database``); a folder locks itself."""
    from .folder import FileStorage

    if not url:
        return FileStorage(config["UPLOAD_DIR"])
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from .s3 import S3Storage

        if not parts.netloc:
            raise ValueError("STORAGE_URL s3://BUCKET[/PREFIX] needs a bucket")
        return S3Storage.from_config(parts.netloc, parts.path.strip("/"), config=config, lock=lock)
    if parts.scheme == "file" and not parts.netloc:
        return FileStorage(parts.path)
    if not parts.scheme and url.startswith("/"):
        return FileStorage(url)
    raise ValueError(f"STORAGE_URL must be empty, file:///PATH or s3://BUCKET[/PREFIX], not {url!r}")


def for_app(app: Flask, url: str | None = None) -> Storage:
    """``app``'s storage (``STORAGE_URL``, or ``url``), made once per process and shared by its threads."""
    from . import locks

    url = app.config.get("STORAGE_URL") if url is None else url
    cache = app.extensions.setdefault("storage", {"lock": threading.Lock(), "made": {}})
    key = (os.getpid(), url or "")  # a forked worker makes its own client
    with cache["lock"]:
        made = cache["made"].get(key)
        if made is None:
            made = cache["made"][key] = make_storage(url, config=app.config, lock=locks.for_app(app) if url else None)
    return made


def storage() -> Storage:
    """The current app's storage."""
    return for_app(current_app)
