"""Figures for the supervisor dashboard; the template draws them as server-side SVG."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, text
from sqlmodel import Session, select

from ..models import OPEN_CASES_SQL, Agent, Case, CaseStatus, utcnow
from .queue import breached, counts

DAYS = 30


@dataclass
class Dashboard:
    by_status: dict[str, int]
    breached: int
    oldest_waiting: list[Case]
    #: [(day, opened, closed)] for the last DAYS days, oldest first
    per_day: list[tuple[date, int, int]]
    #: {kind: {"approved": n, "rejected": n}}
    decisions: dict[str, dict[str, int]]
    #: [(agent name, open cases assigned)] busiest first
    workload: list[tuple[str, int]]


def _per_day(session: Session, column, since) -> dict[str, int]:
    day = func.date(column)
    rows = session.exec(select(day, func.count()).where(column >= since).group_by(day)).all()
    return {str(found): number for found, number in rows}


def build(session: Session) -> Dashboard:
    now = utcnow()
    since = now - timedelta(days=DAYS - 1)
    start = since.date()
    opened, closed = _per_day(session, Case.created_at, since), _per_day(session, Case.closed_at, since)
    days = [start + timedelta(days=offset) for offset in range(DAYS)]
    decisions: dict[str, dict[str, int]] = {}
    for kind, decision, number in session.exec(select(Case.kind, Case.decision, func.count())
                                               .where(Case.decision.is_not(None)).group_by(Case.kind, Case.decision)):
        decisions.setdefault(kind.value, {"approved": 0, "rejected": 0})[decision] = number
    workload = session.exec(select(Agent.name, func.count(Case.id)).join(Case, Case.assignee_id == Agent.id)
                            .where(text(f'"case".{OPEN_CASES_SQL}')).group_by(Agent.id, Agent.name)
                            .order_by(func.count(Case.id).desc()).limit(15)).all()
    return Dashboard(
        by_status=counts(session),
        breached=session.exec(select(func.count()).select_from(Case)
                              .where(text(OPEN_CASES_SQL), breached(now))).one(),
        oldest_waiting=list(session.exec(select(Case).where(Case.status == CaseStatus.waiting_on_claimant)
                                         .order_by(Case.waiting_since, Case.id).limit(10))),
        per_day=[(day, opened.get(str(day), 0), closed.get(str(day), 0)) for day in days],
        decisions=decisions,
        workload=[(name, number) for name, number in workload],
    )
