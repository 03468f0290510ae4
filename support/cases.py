"""The case lifecycle: filing, the private token, allowed transitions, messages.

Every transition goes through ``transition`` and is an audit event in the same
transaction. Services flush; the caller's request or CLI transaction commits.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from . import audit
from .models import Case, CaseKind, CaseStatus, Message, MessageVisibility, utcnow

S = CaseStatus
#: the lifecycle of DESIGN.md: from -> allowed targets
TRANSITIONS: dict[CaseStatus, set[CaseStatus]] = {
    S.submitted: {S.new, S.closed},
    S.new: {S.in_review, S.closed},
    S.in_review: {S.new, S.waiting_on_claimant, S.approved, S.rejected},
    S.waiting_on_claimant: {S.in_review, S.closed},
    S.approved: {S.executed, S.in_review, S.closed},
    S.rejected: {S.closed},
    S.executed: {S.closed},
    S.closed: {S.new},  # reopened by the claimant within the window
}
#: statuses in which the case is still someone's work
OPEN = (S.new, S.in_review, S.waiting_on_claimant, S.approved)


class TransitionError(ValueError):
    """A status change the lifecycle does not allow."""


@dataclass
class Claim:
    """What a claimant states when filing, already validated by the caller."""

    kind: CaseKind
    claimant_name: str
    contact_email: str
    language: str
    imei1: str
    imei2: str | None = None
    hint_account_id: str | None = None
    hint_email: str | None = None
    hint_phone: str | None = None
    serial: str | None = None
    model: str | None = None
    purchase_date: date | None = None
    shop: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sla_hours(kind: CaseKind, config: dict) -> int:
    return config[f"SLA_HOURS_{kind.value.upper()}"]


def file_case(session: Session, *, claim: Claim, config: dict, origin: audit.Origin | None = None) -> tuple[Case, str]:
    """Create a ``submitted`` case; returns it and its private token (shown once, never stored)."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    case = Case(
        **vars(claim),
        status=CaseStatus.submitted,
        token_hash=hash_token(token),
        consent_at=now,
        created_at=now,
        updated_at=now,
        sla_due_at=now + timedelta(hours=sla_hours(claim.kind, config)),
    )
    session.add(case)
    session.flush()
    case.number = f"RD-{now.year}-{case.id:06d}"
    session.add(case)
    session.flush()
    audit.record(session, actor=audit.Actor("claimant", case.number, claim.claimant_name), action="case.filed",
                 subject=("case", case.number), case_number=case.number,
                 after={"kind": claim.kind.value, "imei1": claim.imei1, "contact_email": claim.contact_email},
                 origin=origin)
    return case, token


def get_by_number(session: Session, number: str) -> Case | None:
    return session.exec(select(Case).where(Case.number == number.strip().upper())).first()


def find_for_claimant(session: Session, number: str, token: str) -> Case | None:
    """The case when number and token match; None otherwise (the same for either mistake)."""
    case = get_by_number(session, number or "")
    expected = case.token_hash if case else hash_token("no such case")
    matches = hmac.compare_digest(expected, hash_token(token or ""))
    return case if case is not None and matches else None


def transition(
    session: Session,
    case: Case,
    to: CaseStatus,
    *,
    actor: audit.Actor,
    reason: str | None = None,
    origin: audit.Origin | None = None,
) -> Case:
    """Move the case to ``to`` if the lifecycle allows it; audited in the same transaction."""
    if to not in TRANSITIONS[case.status]:
        raise TransitionError(f"a {case.status.value} case cannot become {to.value}")
    before = case.status
    now = utcnow()
    case.status, case.updated_at = to, now
    case.waiting_since = now if to == S.waiting_on_claimant else None
    if to == S.waiting_on_claimant:
        case.reminded_at = None
    if to == S.closed:
        case.closed_at = now
    elif before == S.closed:
        case.closed_at = None
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="case.transition", subject=("case", case.number),
                 case_number=case.number, before={"status": before.value}, after={"status": to.value},
                 reason=reason, origin=origin)
    return case


def confirm_contact(session: Session, case: Case, *, origin: audit.Origin | None = None) -> bool:
    """Mark the contact email confirmed and put the case in the queue; False if already done."""
    if case.contact_confirmed_at is not None:
        return False
    case.contact_confirmed_at = utcnow()
    actor = audit.Actor("claimant", case.number, case.claimant_name)
    audit.record(session, actor=actor, action="case.contact_confirmed", subject=("case", case.number),
                 case_number=case.number, after={"contact_email": case.contact_email}, origin=origin)
    if case.status == S.submitted:
        transition(session, case, S.new, actor=actor, reason="contact email confirmed", origin=origin)
    return True


def add_message(
    session: Session,
    case: Case,
    *,
    body: str,
    actor: audit.Actor,
    visibility: MessageVisibility = MessageVisibility.public,
    requested: dict | None = None,
    origin: audit.Origin | None = None,
) -> Message:
    """A public message or internal note on the case; audited."""
    author_agent_id = int(actor.id) if actor.type == "agent" else None
    message = Message(case_id=case.id, visibility=visibility, author_type=actor.type,
                      author_agent_id=author_agent_id, body=body, requested=requested or {})
    session.add(message)
    case.updated_at = utcnow()
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action=f"message.{visibility.value}", subject=("message", message.id),
                 case_number=case.number, after={"length": len(body), "requested": requested or None},
                 origin=origin)
    return message


def public_messages(session: Session, case: Case) -> list[Message]:
    return list(session.exec(select(Message).where(Message.case_id == case.id,
                                                   Message.visibility == MessageVisibility.public)
                             .order_by(Message.created_at, Message.id)))
