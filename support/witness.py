"""Checkpoints the app takes by itself, and their copies outside the database.

Someone who can write to the database can delete the newest events and the checkpoints
that name them; the database alone cannot tell. So every transaction that appends events
also signs a checkpoint when ``AUDIT_CHECKPOINT_EVERY`` events or
``AUDIT_CHECKPOINT_MINUTES`` have passed since the last one, and once it has committed,
every checkpoint it stored is appended to the witness file (``AUDIT_WITNESS_FILE``, JSON
lines) and logged. A witness line carries the hashes of the events since the previous
checkpoint, so ``audit verify --witness`` names the first event that is missing or was
changed, even in a chain rewritten with recomputed hashes. Keep the file (or ship the log)
where the database's users cannot write. The worker also signs one when the minutes have
passed and the desk has fallen quiet (``checkpoint_when_due``), and, as often, verifies the
whole chain against its checkpoints and this witness file, keeping the outcome for the
audit page (``verify_and_keep``; ``flask audit verify`` keeps its outcome too).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from sqlalchemy import event
from sqlmodel import Session, select

from . import audit, db, jobs
from .append_only import append_lines
from .models import AuditCheckpoint, AuditEvent, utcnow

log = logging.getLogger("recovery_desk.audit.witness")
#: at most this many event hashes per witness line (a checkpoint after a long silence)
MAX_HASHES = 10_000


@dataclass
class Policy:
    """When the app checkpoints by itself, and where the checkpoints are witnessed."""

    every: int
    minutes: int
    witness_file: Path
    load_key: Callable[[], Ed25519PrivateKey]
    _key: Ed25519PrivateKey | None = field(default=None, repr=False)

    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = self.load_key()
        return self._key

    def due(self, session: Session) -> bool:
        latest = audit.latest_checkpoint(session)
        if latest is None:
            return True
        newest = audit.head(session)
        return newest.seq - latest.seq >= self.every or (
            newest.seq > latest.seq and utcnow() - latest.at >= timedelta(minutes=self.minutes))


def watch(session: Session, policy: Policy) -> None:
    """Checkpoint ``session``'s transactions when due and witness what they sign, after commit."""
    state = {"appended": False, "signed": [], "lines": []}

    @event.listens_for(session, "after_flush")
    def _seen(flushed, _context):
        for row in flushed.new:
            if isinstance(row, AuditEvent):
                state["appended"] = True
            elif isinstance(row, AuditCheckpoint):
                state["signed"].append(row)

    @event.listens_for(session, "before_commit")
    def _sign(committing):
        if state["appended"]:
            state["appended"] = False
            if policy.due(committing):
                audit.checkpoint(committing, policy.key())
        state["lines"] += [_line(committing, signed) for signed in state["signed"]]
        state["signed"] = []

    @event.listens_for(session, "after_commit")
    def _witness(_committed):
        lines, state["lines"] = state["lines"], []
        for line in lines:
            _append(policy.witness_file, line)

    @event.listens_for(session, "after_rollback")
    def _forget(_rolled_back):
        state.update(appended=False, signed=[], lines=[])


def _line(session: Session, signed: AuditCheckpoint) -> dict:
    """The checkpoint as witnessed: its signed statement and the hashes it covers."""
    before = session.exec(select(AuditCheckpoint.seq).where(AuditCheckpoint.id < signed.id)
                          .order_by(AuditCheckpoint.id.desc()).limit(1)).first() or 0
    first = max(before + 1, signed.seq - MAX_HASHES + 1)
    hashes = session.exec(select(AuditEvent.hash).where(AuditEvent.seq >= first, AuditEvent.seq <= signed.seq)
                          .order_by(AuditEvent.seq)).all()
    return {"seq": signed.seq, "head_hash": signed.head_hash, "at": signed.at.isoformat(),
            "signature": signed.signature, "public_key": signed.public_key,
            "first_seq": first, "hashes": list(hashes)}


def _append(path: Path, line: dict) -> None:
    log.info("audit checkpoint %s", json.dumps({key: line[key] for key in
                                                ("seq", "head_hash", "at", "signature", "public_key")}))
    append_lines(path, [line])


def read(lines: Iterable[str]) -> list[dict]:
    """The witnessed checkpoints of a witness file (blank lines skipped)."""
    return [json.loads(line) for line in lines if line.strip()]


def init_app(app: Flask) -> None:
    policy = Policy(
        every=app.config["AUDIT_CHECKPOINT_EVERY"],
        minutes=app.config["AUDIT_CHECKPOINT_MINUTES"],
        witness_file=Path(app.config["AUDIT_WITNESS_FILE"] or Path(app.instance_path) / "audit-witness.log"),
        load_key=lambda: audit.load_signing_key(app.config, app.instance_path),
    )
    app.extensions["audit_policy"] = policy
    app.extensions.setdefault("db_session_hooks", []).append(lambda session: watch(session, policy))


@jobs.periodic(jobs.crontab(minute="*/5"))
def checkpoint_when_due() -> bool:
    """On the worker: sign a checkpoint once ``AUDIT_CHECKPOINT_MINUTES`` have passed since the
    last one, even when no new event comes to trigger it (``audit checkpoint`` at any time)."""
    policy: Policy = current_app.extensions["audit_policy"]
    with db.transaction() as session:
        signed = audit.head(session) is not None and policy.due(session)
        if signed:
            audit.checkpoint(session, policy.key())  # witnessed after commit by ``watch``
    if _verification_due(policy):
        verify_and_keep(by="worker")
    return signed


def _verification_due(policy: Policy) -> bool:
    with Session(db.reader()) as session:
        latest = audit.latest_verification(session)
        newest = audit.head(session)
    return newest is not None and (latest is None or utcnow() - latest.at >= timedelta(minutes=policy.minutes))


def verify_and_keep(*, by: str) -> audit.Verdict:
    """Verify the chain (checkpoints and the witness file included) and keep the verdict.

    The walk over every event only reads (no write lock held while it runs); the verdict is
    written in a short transaction of its own afterwards.
    """
    policy: Policy = current_app.extensions["audit_policy"]
    witnessed = read(policy.witness_file.read_text().splitlines()) if policy.witness_file.exists() else []
    with Session(db.reader()) as session:
        verdict = audit.verify(session, policy.key().public_key(), witnessed)
    with db.transaction() as session:
        audit.record_verification(session, verdict, by=by)
    return verdict
