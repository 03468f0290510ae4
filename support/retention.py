"""Retention: the personal data of a case closed more than ``RETENTION_DAYS`` ago is erased.

Daily on the worker (``erase_expired``) and as ``flask --app app retention run [--dry-run]``.
Each case is erased in a transaction of its own (``erasure.erase_case``), so no write
transaction grows with the backlog, and every case is looked at again under its row lock:
a case reopened meanwhile is skipped, one another worker erased first is a no-op. Running
it twice, or on two workers at once, erases each case once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlmodel import Session, select

from . import audit, db, erasure, erasure_ledger, jobs
from .models import Case, CaseStatus, utcnow

#: cases read per query; each is still erased in its own transaction
BATCH = 100
#: the reason each erasure is audited with (``sentences.reason_text`` translates it)
REASON = "retention: closed more than {days} days ago"


@dataclass
class Outcome:
    """What a run erased (case numbers), and what it found due but left (reopened meanwhile)."""

    erased: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """Cases closed before this time are due; ``days`` must be positive (the config refuses less)."""
    if days <= 0:
        raise ValueError("RETENTION_DAYS must be at least 1")
    return (now or utcnow()) - timedelta(days=days)


def due(session: Session, *, before: datetime, after_id: int = 0, limit: int | None = BATCH) -> list[tuple[int, str]]:
    """(id, number) of closed cases, not erased, closed before ``before``, in id order after ``after_id``."""
    query = (select(Case.id, Case.number).where(Case.status == CaseStatus.closed, Case.erased_at.is_(None),
                                                 Case.closed_at < before, Case.id > after_id).order_by(Case.id))
    return list(session.exec(query.limit(limit) if limit else query))


def run(*, days: int, actor: audit.Actor = audit.SYSTEM, dry_run: bool = False, now: datetime | None = None) -> Outcome:
    """Erase every case due (``dry_run``: only say which); one transaction per case."""
    before, outcome, after_id = cutoff(days, now), Outcome(), 0
    if dry_run:
        with Session(db.reader()) as session:
            outcome.erased = [number for _id, number in due(session, before=before, limit=None)]
        return outcome
    reason = REASON.format(days=days)
    while True:
        with Session(db.reader()) as session:
            batch = due(session, before=before, after_id=after_id)
        if not batch:
            if outcome.erased:
                erasure.forget_search_words(db.engine())  # once for the whole run, not per case
            return outcome
        for case_id, number in batch:
            after_id = case_id
            with db.transaction() as session:
                case = erasure.lock(session, case_id)
                still_due = (case.erased_at is None and case.status == CaseStatus.closed and case.closed_at
                             and _aware(case.closed_at) < before)
                if not still_due:
                    if case.erased_at is None:  # reopened meanwhile (erased by another worker: nothing to say)
                        outcome.skipped.append(number)
                    continue
                erasure.erase_case(session, case, actor=actor, reason=reason, merge_search_index=False)
            outcome.erased.append(number)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes on some paths; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@jobs.periodic(jobs.crontab(minute="45", hour="2"))
def erase_expired() -> int:
    """Daily on the worker: ``run`` with ``RETENTION_DAYS``, then the erasure ledger caught up
    with the database (``erasure_ledger.catch_up``); returns how many cases were erased."""
    erased = len(run(days=current_app.config["RETENTION_DAYS"]).erased)
    erasure_ledger.catch_up(current_app)
    return erased
