"""The queue's rows as its table prints them, worked out in Python once per page.

At ten million cases the database answers a queue page in well under a millisecond; the
page's own Python is what is left, and most of it was the 50 rows in the template: per
cell an attribute chain, a call or a format filter, each several times dearer in Jinja
than in Python. Here each row becomes the strings and flags its cells print, labels
translated once per page, so the template only places (and escapes) them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from ..models import CaseStatus
from .labels import KINDS, STATUSES, translated
from .queue import age_label

#: statuses in which an overdue SLA counts as breached before the sweep flags it (``queue.breached``)
_DESK_TURN = frozenset({CaseStatus.new, CaseStatus.in_review})


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    number: str
    #: what the bulk-assign box posts (``id:version``) and its label for screen readers
    pick: str
    pick_label: str
    flagged: bool
    replied: bool
    claimant_name: str
    model: str
    age: str
    #: "h" (hours, under two days) or "d"
    age_unit: str
    kind: str
    status: str
    sla_iso: str
    sla_text: str
    breached: bool
    risk: int
    #: "high", "mid" or "low"
    risk_band: str
    assignee: str


def rows(cases: list, *, now: datetime, assignees: dict[int, str]) -> list[Row]:
    """The page's rows (``queue.ROW_COLUMNS``) as the table shows them, in the request's language."""
    kinds, statuses = translated(KINDS), translated(STATUSES)
    ages = {"h": _("%(hours)s h", hours="%(n)s"), "d": _("%(days)s d", days="%(n)s")}
    unassigned, pick_label = _("Unassigned"), _("Select %(number)s", number="%(number)s")
    shown = []
    for case in cases:
        due = case.sla_due_at
        amount, unit = age_label(case.created_at, now)
        risk = case.risk_score
        shown.append(Row(
            id=case.id, number=case.number, pick=f"{case.id}:{case.version}",
            pick_label=pick_label % {"number": case.number}, flagged=case.flagged,
            replied=bool(case.replied), claimant_name=case.claimant_name or "—", model=case.model or "—",
            age=ages[unit] % {"n": amount}, age_unit=unit, kind=kinds[case.kind.value],
            status=statuses[case.status.value], sla_iso=due.isoformat() if due else "",
            sla_text=due.strftime("%Y-%m-%d %H:%M") if due else "",
            breached=bool(case.sla_breached or (case.status in _DESK_TURN and due and due < now)),
            risk=risk, risk_band="high" if risk >= 60 else "mid" if risk >= 30 else "low",
            assignee=assignees.get(case.assignee_id, "—") if case.assignee_id else unassigned))
    return shown
