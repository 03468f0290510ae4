"""An agent's verdict on each evidence file: accepted, or needs a new upload (and why).

The verdict lives on the evidence row; every change of it is an ``evidence.verdict_set``
audit event with before and after, in the same transaction, so the trail holds the
history. A file judged "needs a new upload" blocks approval until the claimant's
replacement arrives (``Evidence.replaced_by_id``, set by ``checklist``): the replacement
is a new, unreviewed item and the old one keeps its verdict.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from . import audit
from .models import Case, Evidence, Verdict, VerdictReason, utcnow
from .refusals import Refused

#: the titles live on the enums (``models.Verdict``, ``models.VerdictReason``); these are their tables
VERDICTS = Verdict.__titles__
#: the reasons, as the agent picks them and as the claimant reads them
REASONS = VerdictReason.__titles__
MAX_NOTE_CHARS = 1000


class VerdictRefused(Refused):
    """A verdict that cannot be recorded as sent; nothing was written."""


class UploadsOutstanding(Refused):
    """Approving while a file judged "needs a new upload" has no replacement yet."""

    status = 409

    def __init__(self, items: list[Evidence]):
        numbers = ", ".join(f"#{item.id}" for item in items)
        super().__init__("uploads_outstanding", _(
            "This case cannot be approved: file(s) %(numbers)s need a new upload and none has arrived yet. "
            "Request it from the claimant, change the verdict, or reject the case.", numbers=numbers))
        self.items = items


def outstanding(session: Session, case: Case) -> list[Evidence]:
    """Files judged "needs a new upload" that no newer upload has answered yet."""
    return list(session.exec(select(Evidence).where(Evidence.case_id == case.id,
                                                    Evidence.verdict == Verdict.needs_upload,
                                                    Evidence.replaced_by_id.is_(None))
                             .order_by(Evidence.id)))


def set_verdict(session: Session, case: Case, item: Evidence, *, verdict: Verdict, reason: VerdictReason | None,
                note: str | None, agent_id: int, actor: audit.Actor, origin: audit.Origin | None = None) -> Evidence:
    """Record the agent's verdict on ``item``; the caller checked the case version and who may work it.

    "Needs a new upload" needs a reason, and "other" needs the agent's words too; an
    accepted file keeps no reason. Touching the case bumps its version, so a decision
    made on the page as it was before this verdict is refused as stale.
    """
    if item.case_id != case.id:
        raise VerdictRefused("not_this_case", _("This file belongs to another case."))
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    if verdict == Verdict.needs_upload:
        if reason is None:
            raise VerdictRefused("reason_required", _("Choose why a new upload is needed."), "reason")
        if reason == VerdictReason.other and not note:
            raise VerdictRefused("note_required", _("Say in the note what is wrong with the file."), "note")
    else:
        reason = None
    before = snapshot(item)
    item.verdict, item.verdict_reason, item.verdict_note = verdict, reason, note
    item.verdict_by_id, item.verdict_at = agent_id, utcnow()
    session.add(item)
    case.updated_at = utcnow()
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="evidence.verdict_set", subject=("evidence", item.id),
                 case_number=case.number, before=before, after=snapshot(item), origin=origin)
    return item


def snapshot(item: Evidence) -> dict:
    return {"verdict": item.verdict.value if item.verdict else None,
            "reason": item.verdict_reason.value if item.verdict_reason else None,
            "note": item.verdict_note}
