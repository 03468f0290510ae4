"""What the API shows a claimant of their case: never internal notes, never agents' names."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from .. import cases, checklist
from ..evidence import missing_evidence
from ..models import Case, CaseStatus, Evidence, Message, RequestedItem


def status_text(status: CaseStatus) -> str:
    """The status in plain words, in the request's language."""
    words = {
        CaseStatus.submitted: _("Waiting for you to confirm your email address."),
        CaseStatus.new: _("Received; waiting for an agent."),
        CaseStatus.in_review: _("An agent is reviewing your case."),
        CaseStatus.waiting_on_claimant: _("We are waiting for your answer."),
        CaseStatus.approved: _("Approved; the change is being made."),
        CaseStatus.rejected: _("Rejected."),
        CaseStatus.executed: _("Done: the change has been made."),
        CaseStatus.closed: _("Closed."),
    }
    return words[status]


def _time(value) -> str | None:
    return value.isoformat() if value else None


def evidence_item(evidence: Evidence) -> dict:
    return {"id": evidence.id, "kind": evidence.kind.value, "sha256": evidence.sha256,
            "media_type": evidence.media_type, "size": evidence.size, "filename": evidence.original_name,
            "created_at": _time(evidence.created_at)}


def message_item(message: Message) -> dict:
    return {"id": message.id, "author": message.author_type, "body": message.body,
            "requested": message.requested or {}, "created_at": _time(message.created_at)}


def checklist_item(item: RequestedItem) -> dict:
    """One line of the latest request: what is asked (a file of a kind, or a question), why, and
    whether it is answered; the answer itself is in the case's evidence or messages."""
    return {"id": item.id, "kind": item.kind.value,
            "evidence_kind": item.evidence_kind.value if item.evidence_kind else None,
            "reason": item.reason.value if item.reason else None,
            "reason_text": item.reason.title if item.reason else None,
            "note": item.note, "replaces_evidence": item.evidence_id, "status": item.status.value,
            "answered_at": _time(item.answered_at)}


def case_view(session: Session, case: Case, config: dict) -> dict:
    """The case for its claimant: status, expected response, public messages, their evidence, and
    the checklist of the latest request for more (files to upload again or anew, a question)."""
    evidence = list(session.exec(select(Evidence).where(Evidence.case_id == case.id)
                                 .order_by(Evidence.created_at, Evidence.id)))
    missing = missing_evidence(case.kind, {item.kind for item in evidence})
    return {
        "number": case.number,
        "kind": case.kind.value,
        "status": case.status.value,
        "status_text": status_text(case.status),
        "language": case.language,
        "contact_confirmed": case.contact_confirmed_at is not None,
        "created_at": _time(case.created_at),
        "updated_at": _time(case.updated_at),
        "expected_response_hours": cases.sla_hours(case.kind, config),
        "expected_response_by": _time(case.sla_due_at),
        "missing_evidence": [sorted(kind.value for kind in group) for group in missing],
        "messages": [message_item(message) for message in cases.public_messages(session, case)],
        "evidence": [evidence_item(item) for item in evidence],
        "checklist": [checklist_item(item) for item in checklist.latest(session, case)],
    }
