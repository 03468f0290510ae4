"""A request for more information as a checklist: one item per file or answer needed.

Items come from files an agent judged "needs a new upload" (automatically), from kinds
of document the agent asks for, and from a free question. The case waits on the claimant
until every item of the request is answered; an item is answered once, and the items
still open when the case stops waiting (closed by the sweep, say) are cancelled, so an
old form cannot answer them later. Each item, answer and cancellation is audited.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from . import audit, verdicts
from .models import (Case, Evidence, EvidenceKind, Message, RequestedItem, RequestedItemKind, RequestedItemStatus,
                     utcnow)
from .refusals import Refused

OPEN, ANSWERED, CANCELLED = RequestedItemStatus.open, RequestedItemStatus.answered, RequestedItemStatus.cancelled
MAX_ANSWER_CHARS = 5000


class ItemRefused(Refused):
    """An answer to an item that is not this case's, or no longer open; nothing was written."""

    status = 409


def create(session: Session, case: Case, message: Message, *, documents: dict[EvidenceKind, str],
           question: str | None, actor: audit.Actor, origin: audit.Origin | None = None) -> list[RequestedItem]:
    """The items of a new request: every file still needing a new upload, then the documents, then the question."""
    items = [RequestedItem(case_id=case.id, message_id=message.id, kind=RequestedItemKind.upload,
                           evidence_kind=item.kind, evidence_id=item.id, reason=item.verdict_reason,
                           note=item.verdict_note or "")
             for item in verdicts.outstanding(session, case)]
    items += [RequestedItem(case_id=case.id, message_id=message.id, kind=RequestedItemKind.upload,
                            evidence_kind=kind, note=note) for kind, note in documents.items()]
    if question:
        items.append(RequestedItem(case_id=case.id, message_id=message.id, kind=RequestedItemKind.question,
                                   note=question))
    for item in items:
        session.add(item)
    session.flush()
    audit.record(session, actor=actor, action="checklist.requested", subject=("message", message.id),
                 case_number=case.number, after={"items": [describe(item) for item in items]}, origin=origin)
    return items


def describe(item: RequestedItem) -> dict:
    """What the audit trail keeps of an item."""
    return {"id": item.id, "kind": item.kind.value,
            "evidence_kind": item.evidence_kind.value if item.evidence_kind else None, "replaces": item.evidence_id,
            "reason": item.reason.value if item.reason else None, "note": item.note}


def items_of(session: Session, case: Case, *, status: RequestedItemStatus | None = None) -> list[RequestedItem]:
    query = select(RequestedItem).where(RequestedItem.case_id == case.id)
    if status is not None:
        query = query.where(RequestedItem.status == status)
    return list(session.exec(query.order_by(RequestedItem.id)))


def open_items(session: Session, case: Case) -> list[RequestedItem]:
    return items_of(session, case, status=OPEN)


def latest(session: Session, case: Case) -> list[RequestedItem]:
    """The items of the latest request (what the claimant's checklist and the case page show)."""
    items = items_of(session, case)
    if not items:
        return []
    last = max(item.message_id for item in items)
    return [item for item in items if item.message_id == last]


def find_open(session: Session, case: Case, item_id: int) -> RequestedItem:
    """The case's open item ``item_id``; another case's item is reported as not found."""
    item = session.get(RequestedItem, item_id)
    if item is None or item.case_id != case.id:
        refusal = ItemRefused("no_such_item", _("We could not find this requested item. Please reload the page."))
        refusal.status = 404
        raise refusal
    if item.status == ANSWERED:
        raise ItemRefused("already_answered", _("This item was already answered. Please reload the page."))
    if item.status == CANCELLED:
        raise ItemRefused("item_cancelled", _("This request is no longer open. Please reload the page."))
    return item


def answer_with_file(session: Session, case: Case, item: RequestedItem, evidence: Evidence, *, actor: audit.Actor,
                     origin: audit.Origin | None = None) -> RequestedItem:
    """The new file answers ``item``; a file it replaces is marked "replaced by" the new one (keeping its verdict)."""
    if item.kind != RequestedItemKind.upload:
        raise ItemRefused("wrong_answer", _("Please answer this question in words."))
    replaced = session.get(Evidence, item.evidence_id) if item.evidence_id else None
    if replaced is not None:
        replaced.replaced_by_id = evidence.id
        session.add(replaced)
    item.answer_evidence_id = evidence.id
    return _answered(session, case, item, actor=actor, origin=origin,
                     after={"evidence_id": evidence.id, "replaces": item.evidence_id})


def answer_with_text(session: Session, case: Case, item: RequestedItem, text: str, *, actor: audit.Actor,
                     origin: audit.Origin | None = None) -> RequestedItem:
    if item.kind != RequestedItemKind.question:
        raise ItemRefused("wrong_answer", _("Please choose a file for this item."))
    item.answer_text = text
    return _answered(session, case, item, actor=actor, origin=origin, after={"length": len(text)})


def _answered(session: Session, case: Case, item: RequestedItem, *, actor: audit.Actor, origin, after: dict):
    item.status, item.answered_at = ANSWERED, utcnow()
    session.add(item)
    session.flush()
    audit.record(session, actor=actor, action="checklist.answered", subject=("requested_item", item.id),
                 case_number=case.number, before={"status": OPEN.value}, after={"status": ANSWERED.value, **after},
                 origin=origin)
    return item


def cancel_open(session: Session, case: Case, *, actor: audit.Actor, reason: str,
                origin: audit.Origin | None = None) -> list[RequestedItem]:
    """The request ended unanswered: its open items can no longer be answered."""
    items = open_items(session, case)
    for item in items:
        item.status = CANCELLED
        session.add(item)
    if items:
        session.flush()
        audit.record(session, actor=actor, action="checklist.cancelled", subject=("case", case.number),
                     case_number=case.number, after={"items": [item.id for item in items]}, reason=reason,
                     origin=origin)
    return items
