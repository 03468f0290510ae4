"""Copying every stored file to another backend, each copy verified, before the desk switches to it.

A copy counts only once it has been read back from the target and hashes to what it must:
its name for the content-addressed areas, the source's bytes for the ``pages`` cache. A
file already in the target with the right bytes is not copied again, so an interrupted
run simply runs again. The desk keeps working meanwhile, so the run ends with a final
pass under the storage lock (no purge deletes while it lists and copies what arrived)
and then copies every file committed evidence names that it has not copied yet: an upload
filed during the run. Anything failed makes the run refuse the switch.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from . import AREAS, Storage

#: what became of one file
COPIED, PRESENT, VANISHED, FAILED = OUTCOMES = ("copied", "present", "vanished", "failed")


@dataclass
class Migration:
    """The outcome of one run: what became of each file (a file retried counts once, as it ended)."""

    source: str
    target: str
    #: (area, name) -> (outcome, why it failed)
    outcomes: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: files committed evidence names that the source does not have either (lost before this run)
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        return [(area, name, reason) for (area, name), (outcome, reason) in sorted(self.outcomes.items())
                if outcome == FAILED]

    @property
    def may_switch(self) -> bool:
        return not self.failures

    def settled(self, area: str, name: str) -> bool:
        return (area, name) in self.outcomes and self.outcomes[(area, name)][0] != FAILED

    def as_dict(self) -> dict:
        counts = {area: dict.fromkeys(OUTCOMES, 0) for area in AREAS}
        for (area, _name), (outcome, _reason) in self.outcomes.items():
            counts[area][outcome] += 1
        totals = {outcome: sum(area[outcome] for area in counts.values()) for outcome in OUTCOMES}
        return {"source": self.source, "target": self.target, "areas": counts, "total": totals,
                "failed": [list(failure) for failure in self.failures], "missing": [list(item) for item in self.missing],
                "may_switch": self.may_switch}


def migrate(source: Storage, target: Storage, *, committed: Callable[[], dict[str, set[str]]]) -> Migration:
    """Copy every file of ``source`` to ``target`` and verify it; ``committed`` reads what
    committed evidence names now (``written.committed_files`` in a fresh transaction)."""
    migration = Migration(source.describe(), target.describe())
    _copy_listed(source, target, migration)
    with source.locked():
        _copy_listed(source, target, migration)  # what arrived meanwhile, and another try for what failed
        for area, names in committed().items():
            for name in sorted(names):
                if not migration.settled(area, name) and _copy(source, target, area, name, migration) == VANISHED:
                    del migration.outcomes[(area, name)]  # named but not stored: lost before this run
                    migration.missing.append((area, name))
    return migration


def _copy_listed(source: Storage, target: Storage, migration: Migration) -> None:
    for area in AREAS:
        for entry in list(source.entries(area)):
            if not migration.settled(area, entry.name):
                _copy(source, target, area, entry.name, migration)


def _copy(source: Storage, target: Storage, area: str, name: str, migration: Migration) -> str:
    outcome, reason = copy_file(source, target, area, name)
    migration.outcomes[(area, name)] = (outcome, reason)
    return outcome


def copy_file(source: Storage, target: Storage, area: str, name: str) -> tuple[str, str]:
    """Copy one file unless the target has it with the right bytes; (outcome, why it failed)."""
    try:
        data = source.open(area, name)
    except FileNotFoundError:
        return VANISHED, ""  # purged or settled away since it was listed
    expected = hashlib.sha256(data).hexdigest()
    if area != "pages" and expected != name:
        return FAILED, "the source's bytes do not match their name"
    if _digest(target, area, name) == expected:
        return PRESENT, ""
    try:
        target.put(area, name, data)
    except Exception as error:  # noqa: BLE001 - any refusal of the target is this file's failure
        return FAILED, f"the target refused it: {error}"
    if _digest(target, area, name) != expected:
        return FAILED, "the target returned other bytes"
    return COPIED, ""


def _digest(files: Storage, area: str, name: str) -> str | None:
    """The SHA-256 of what ``files`` returns for the file; None when it has none or cannot read it."""
    digest = hashlib.sha256()
    try:
        for piece in files.chunks(area, name):
            digest.update(piece)
    except Exception:  # noqa: BLE001 - missing, unreadable or failing its checksum: not a good copy
        return None
    return digest.hexdigest()
