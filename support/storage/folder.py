"""The local folder: files under ``root/<area>/<aa>/<sha256>``, the default backend.

Written atomically (a temporary ``.tmp-`` file in the same folder, fsync, rename), so a
crash leaves at most a temporary file, which ``remove_incomplete`` clears.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from . import AREAS, CHUNK_BYTES, Entry, check, valid_name
from .locks import flocked

TEMPORARY_PREFIX = ".tmp-"


class FileStorage:
    """Files in a folder of this machine (``UPLOAD_DIR``)."""

    def __init__(self, root: str | Path):
        self._root = Path(root)

    def _path(self, area: str, name: str) -> Path:
        check(area, name)
        return self._root / area / name[:2] / name

    def describe(self) -> str:
        return self._root.resolve().as_uri()

    def store(self, area: str, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        final = self._path(area, sha256)
        if not final.exists():
            self._write(final, data)
        return sha256

    def put(self, area: str, name: str, data: bytes) -> None:
        self._write(self._path(area, name), data)

    @staticmethod
    def _write(final: Path, data: bytes) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=final.parent, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, area: str, name: str) -> bytes:
        return self._path(area, name).read_bytes()

    def chunks(self, area: str, name: str) -> Iterator[bytes]:
        return _pieces(open(self._path(area, name), "rb"))

    def exists(self, area: str, name: str) -> bool:
        return self._path(area, name).exists()

    def delete(self, area: str, name: str) -> None:
        self._path(area, name).unlink(missing_ok=True)

    def touch(self, area: str, name: str) -> bool:
        try:
            os.utime(self._path(area, name))
        except FileNotFoundError:
            return False
        return True

    def entries(self, area: str) -> Iterator[Entry]:
        if area not in AREAS:
            raise ValueError("unknown storage area")
        for path in self._files(area):
            if valid_name(path.name):
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:  # deleted since the listing
                    continue
                yield Entry(path.name, datetime.fromtimestamp(modified, timezone.utc))

    def remove_incomplete(self, before: datetime) -> int:
        removed = 0
        for area in AREAS:
            for path in self._files(area):
                if path.name.startswith(TEMPORARY_PREFIX):
                    try:
                        if path.stat().st_mtime < before.timestamp():
                            path.unlink()
                            removed += 1
                    except FileNotFoundError:
                        continue
        return removed

    def _files(self, area: str) -> Iterator[Path]:
        folder = self._root / area
        return folder.glob("*/*") if folder.is_dir() else iter(())

    def locked(self):
        """An exclusive ``flock`` on ``root/.lock``: across threads and processes of this machine."""
        return flocked(self._root / ".lock")


def _pieces(handle) -> Iterator[bytes]:
    with handle:
        while piece := handle.read(CHUNK_BYTES):
            yield piece
