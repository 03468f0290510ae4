"""Bulk assign: a supervisor hands many queue cases to one agent in one transaction.

Each case goes through ``cases.reassign`` (its own ``case.reassigned`` audit event, a new
case moving to in_review) with the version the supervisor saw, so a case changed since the
queue was loaded refuses the whole batch (``StaleCase``) and nothing is written.
Cases no longer open are skipped and counted, never reopened.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from .. import audit, cases
from ..models import Case

MAX_CASES = 200


@dataclass(frozen=True)
class BulkResult:
    assigned: list[str]
    skipped_closed: list[str]
    unchanged: list[str]


def parse_choices(values: list[str]) -> dict[int, int]:
    """``"id:version"`` checkbox values as {case id: version seen}; malformed ones raise ValueError."""
    chosen = {}
    for value in values[:MAX_CASES + 1]:
        case_id, separator, version = value.partition(":")
        if not (separator and case_id.isdigit() and version.isdigit()):
            raise ValueError(value)
        chosen[int(case_id)] = int(version)
    if len(chosen) > MAX_CASES:
        raise ValueError("too many cases")
    return chosen


def assign(session: Session, *, chosen: dict[int, int], agent_id: int, actor: audit.Actor,
           origin: audit.Origin | None = None) -> BulkResult:
    """Assign every chosen open case to ``agent_id``; raises ``cases.StaleCase`` when one changed."""
    assigned, skipped, unchanged = [], [], []
    found = session.exec(select(Case).where(Case.id.in_(list(chosen))).order_by(Case.id))
    for case in found:
        if case.status not in cases.OPEN:
            skipped.append(case.number)
            continue
        cases.expect_version(case, chosen[case.id])
        if case.assignee_id == agent_id:
            unchanged.append(case.number)
            continue
        cases.reassign(session, case, agent_id=agent_id, version=case.version, actor=actor,
                       reason="bulk assign", origin=origin)
        assigned.append(case.number)
    return BulkResult(assigned, skipped, unchanged)
