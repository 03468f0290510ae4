"""The backup on disk: a folder, or the same members in one ``.tar`` file, with a signed manifest.

Members::

    manifest.json       what the backup holds (every other member's size and SHA-256)
    manifest.sig        Ed25519 signature of manifest.json by the desk's AUDIT_SIGNING_KEY
    database.sqlite     the SQLite copy, or database.pgdump (pg_dump's custom format)
    audit-witness.log   the witness file, when the desk has one
    files.jsonl         every stored file: area, name, size, SHA-256 (one JSON object a line)
    files/<area>/<aa>/<name>   the stored files themselves (``backup --with-files``)

A folder is easy to sync and to inspect; a ``.tar`` (OUT ending in ``.tar``) is one file to
ship. Either is written beside OUT under a temporary name and renamed when complete, so a
crash never leaves a half backup under the final name. The signature makes an edited dump
or manifest detectable: recomputing the hashes is not enough without the signing key.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .stored_files import StoredFile

FORMAT, VERSION = "recovery-desk-backup", 1
MANIFEST, SIGNATURE, WITNESS, FILES_LIST, FILES_DIR = (
    "manifest.json", "manifest.sig", "audit-witness.log", "files.jsonl", "files")
#: signed before the manifest's bytes, so no other signed statement of the desk reads as a manifest
SIGNED_PREFIX = b"recovery-desk backup manifest v1\n"


class BackupError(RuntimeError):
    """The backup cannot be written or read; the message says why."""


def file_member(entry: StoredFile) -> str:
    return f"{FILES_DIR}/{entry.area}/{entry.name[:2]}/{entry.name}"


def describe(path: Path, member: str) -> dict:
    """A member as the manifest lists it."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"name": member, "size": size, "sha256": digest.hexdigest()}


def _sign(manifest: bytes, key: Ed25519PrivateKey) -> str:
    return key.sign(SIGNED_PREFIX + manifest).hex()


class Staging:
    """A backup being written: members go into a temporary folder beside ``out``."""

    def __init__(self, out: Path):
        if out.exists() and (out.is_file() or any(out.iterdir())):
            raise BackupError(f"{out} exists: give a new folder or .tar file name")
        out.parent.mkdir(parents=True, exist_ok=True)
        self.out, self.as_tar = out, out.suffix == ".tar"
        self.folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))

    def path(self, member: str) -> Path:
        path = self.folder / member
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def finish(self, manifest: dict, key: Ed25519PrivateKey) -> None:
        """Write and sign the manifest, then put the backup in place under its name."""
        text = json.dumps(manifest, indent=2, sort_keys=True).encode()
        self.path(MANIFEST).write_bytes(text)
        self.path(SIGNATURE).write_text(_sign(text, key) + "\n")
        if self.as_tar:
            self._pack()
        else:
            os.replace(self.folder, self.out)

    def _pack(self) -> None:
        partial = self.folder.with_suffix(".tar")
        first = [MANIFEST, SIGNATURE]
        rest = sorted(str(path.relative_to(self.folder)) for path in self.folder.rglob("*") if path.is_file())
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as packed:
            for member in first + [name for name in rest if name not in first]:
                packed.add(self.folder / member, arcname=member, recursive=False)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, self.out)
        shutil.rmtree(self.folder)

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.with_suffix(".tar").unlink(missing_ok=True)


class Backup:
    """A backup to read: a folder or a ``.tar`` file (its members are never extracted by
    name into the file system: only read, or copied into a temporary file we name)."""

    def __init__(self, source: Path):
        if not source.exists():
            raise BackupError(f"{source} does not exist")
        self.source = source
        self._tar = None if source.is_dir() else self._open_tar(source)

    @staticmethod
    def _open_tar(source: Path) -> tarfile.TarFile:
        try:
            return tarfile.open(source, "r:")
        except tarfile.TarError as error:
            raise BackupError(f"{source} is neither a backup folder nor a .tar backup: {error}") from error

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> "Backup":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def members(self) -> set[str]:
        """Every regular file in the backup, by its relative name; anything else is named as
        a problem by ``verify`` (a link, a device, a path leaving the backup)."""
        if self._tar is None:
            return {str(path.relative_to(self.source)) for path in self.source.rglob("*") if not path.is_dir()}
        return {member.name for member in self._tar.getmembers() if not member.isdir()}

    def _safe(self, member: str) -> str:
        parts = PurePosixPath(member).parts
        if not parts or PurePosixPath(member).is_absolute() or ".." in parts:
            raise BackupError(f"member {member!r} leaves the backup")
        return member

    @contextmanager
    def stream(self, member: str) -> Iterator:
        """The member's bytes as a binary file; ``BackupError`` when it is missing or not a file."""
        member = self._safe(member)
        if self._tar is None:
            path = self.source / member
            if path.is_symlink() or not path.is_file():
                raise BackupError(f"{member} is missing from the backup")
            with open(path, "rb") as handle:
                yield handle
            return
        try:
            info = self._tar.getmember(member)
        except KeyError:
            raise BackupError(f"{member} is missing from the backup") from None
        if not info.isfile():
            raise BackupError(f"{member} in the backup is not a regular file")
        handle = self._tar.extractfile(info)
        try:
            yield handle
        finally:
            handle.close()

    def read(self, member: str) -> bytes:
        with self.stream(member) as handle:
            return handle.read()

    @contextmanager
    def local_file(self, member: str) -> Iterator[Path]:
        """A path to the member's bytes (the file itself in a folder, a temporary copy from a .tar)."""
        if self._tar is None:
            with self.stream(member):
                pass
            yield self.source / member
            return
        with tempfile.TemporaryDirectory(prefix="rd-restore-") as scratch:
            copy = Path(scratch) / PurePosixPath(member).name
            with self.stream(member) as handle, open(copy, "wb") as out:
                shutil.copyfileobj(handle, out, 1 << 20)
            yield copy

    def digest(self, member: str) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        with self.stream(member) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()


def stored_files(backup: Backup) -> list[StoredFile]:
    """The stored files the backup lists (``files.jsonl``)."""
    lines = backup.read(FILES_LIST).decode().splitlines()
    return [StoredFile(**json.loads(line)) for line in lines if line.strip()]


def verify(backup: Backup, public_key: Ed25519PublicKey) -> tuple[dict | None, list[str]]:
    """The backup's manifest and every problem found: a manifest not signed by this desk's
    key, a member missing or changed, a stored file whose copy differs, an unexpected member."""
    try:
        text, signature = backup.read(MANIFEST), backup.read(SIGNATURE).decode().strip()
    except BackupError as error:
        return None, [str(error)]
    try:
        public_key.verify(bytes.fromhex(signature), SIGNED_PREFIX + text)
    except (InvalidSignature, ValueError):
        return None, ["manifest.json is not signed by this desk's audit signing key (AUDIT_SIGNING_KEY): "
                      "it was changed, or the backup comes from a desk with another key"]
    manifest = json.loads(text)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        return None, [f"not a {FORMAT} version {VERSION} manifest"]
    problems, expected = [], {MANIFEST, SIGNATURE}
    for listed in manifest["members"]:
        expected.add(listed["name"])
        try:
            size, sha256 = backup.digest(listed["name"])
        except BackupError as error:
            problems.append(str(error))
            continue
        if (size, sha256) != (listed["size"], listed["sha256"]):
            problems.append(f"{listed['name']} was changed: its SHA-256 differs from the manifest's")
    if not problems and manifest["storage"]["files_included"]:
        for entry in stored_files(backup):
            member = file_member(entry)
            expected.add(member)
            try:
                if backup.digest(member) != (entry.size, entry.sha256):
                    problems.append(f"{member} was changed: its SHA-256 differs from files.jsonl")
            except BackupError as error:
                problems.append(str(error))
    problems += [f"{member} is not part of the backup's manifest" for member in sorted(backup.members() - expected)]
    return manifest, problems
