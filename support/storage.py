"""Content-addressed file storage behind a small interface.

Files are named by the SHA-256 of their bytes, never by the user's file name, and are
written atomically (temporary file in the same folder, fsync, rename), so a crash leaves
no half file. Areas keep kinds apart: ``originals`` (evidence exactly as uploaded, never
served inline), ``viewable`` (re-encoded copies agents look at), ``thumbnails``, ``print``
(the JPEGs case reports embed), ``pages`` (a PDF's pages drawn for the viewer: a cache,
named by what each was drawn from rather than by its bytes, see ``put``).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

from flask import current_app

AREAS = ("originals", "viewable", "thumbnails", "print", "pages")


class Storage(Protocol):
    def store(self, area: str, data: bytes) -> str: ...
    def open(self, area: str, sha256: str) -> bytes: ...
    def exists(self, area: str, sha256: str) -> bool: ...
    def delete(self, area: str, sha256: str) -> None: ...


class FileStorage:
    """Files under ``root/<area>/<aa>/<sha256>``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, area: str, sha256: str) -> Path:
        if area not in AREAS or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("unknown storage area or malformed SHA-256")
        return self.root / area / sha256[:2] / sha256

    def store(self, area: str, data: bytes) -> str:
        """Store ``data``; returns its SHA-256. Storing the same bytes twice is a no-op."""
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path(area, sha256)
        if final.exists():
            return sha256
        self._write(final, data)
        return sha256

    def put(self, area: str, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` (64 hex digits) rather than its own hash: for a cache
        whose name says what it was made from. Written atomically like ``store``."""
        self._write(self.path(area, name), data)

    @staticmethod
    def _write(final: Path, data: bytes) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, area: str, sha256: str) -> bytes:
        return self.path(area, sha256).read_bytes()

    def exists(self, area: str, sha256: str) -> bool:
        return self.path(area, sha256).exists()

    def delete(self, area: str, sha256: str) -> None:
        self.path(area, sha256).unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Held while deciding whether a shared file may go (``written.settle``): one holder
        at a time across threads and processes (an exclusive ``flock`` on ``root/.lock``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def storage() -> FileStorage:
    """The app's storage (a local folder, ``UPLOAD_DIR``)."""
    return FileStorage(current_app.config["UPLOAD_DIR"])
