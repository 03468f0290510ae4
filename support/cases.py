"""The case lifecycle: filing, the private token, allowed transitions, messages.

Every transition goes through ``transition`` and is an audit event in the same
transaction. Services flush; the caller's request or CLI transaction commits.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from . import audit, checklist, checks, notices, private_codes, verdicts
from .models import Case, CaseKind, CaseStatus, EvidenceKind, Message, MessageVisibility, utcnow
from .refusals import Refused

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


class TransitionError(Refused):
    """A status change the lifecycle does not allow (409: the case is not where the step needs it)."""

    status = 409

    def __init__(self, message: str):
        super().__init__("transition_not_allowed", message)


class CaseErased(Refused):
    """The case's personal data was erased: it takes no new messages."""

    status = 409

    def __init__(self):
        super().__init__("case_erased", "The personal data of this case was erased: it takes no new messages.")


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
    """Create a ``submitted`` case; returns it and its private token (shown once, never stored).

    The contacts the directory has for the accounts the case points at are recorded now,
    so every later notice about those accounts reaches them (``notices.record_contacts``).
    """
    token = private_codes.new_code()
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
    notices.record_contacts(session, case, config)
    audit.record(session, actor=audit.Actor("claimant", case.number, claim.claimant_name), action="case.filed",
                 subject=("case", case.number), case_number=case.number,
                 after={"kind": claim.kind.value, "imei1": claim.imei1, "contact_email": claim.contact_email},
                 origin=origin)
    return case, token


CASE_NUMBER = re.compile(r"RD-\d{4}-\d{6,12}")


def get_by_number(session: Session, number: str, *, for_update: bool = False) -> Case | None:
    """The case with this number; None for anything that is not a case number (no query).

    ``for_update`` locks its row until the transaction ends and reads it afresh: for a
    writer who sent no version to compare (a claimant, an emailed link), whose change must
    apply to the case as it is, not fail because an agent or the worker changed it a
    moment before (the version check would refuse the stale row with a 500).
    """
    number = (number or "").strip().upper()
    if not CASE_NUMBER.fullmatch(number):
        return None
    query = select(Case).where(Case.number == number)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def find_for_claimant(session: Session, number: str, token: str, *, for_update: bool = False) -> Case | None:
    """The case when number and token match; None otherwise (the same for either mistake).
    ``for_update`` as in ``get_by_number``."""
    case = get_by_number(session, number or "", for_update=for_update)
    expected = case.token_hash if case else hash_token("no such case")
    # every form is compared, so the time taken says nothing about which one matched
    matches = [hmac.compare_digest(expected, hash_token(form)) for form in private_codes.candidates(token)]
    return case if case is not None and any(matches) else None


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
    if before == S.waiting_on_claimant:  # the request ended: what is still open can no longer be answered
        checklist.cancel_open(session, case, actor=actor, reason=reason or f"the case became {to.value}",
                              origin=origin)
    return case


def close_for_erasure(session: Session, case: Case, *, actor: audit.Actor, origin: audit.Origin | None = None) -> None:
    """Close a case whatever its status, because its claimant's data is being erased
    (``erasure``, on an explicit override): audited as every transition is."""
    if case.status == S.closed:
        return
    before, now = case.status, utcnow()
    case.status, case.updated_at, case.closed_at, case.waiting_since = S.closed, now, now, None
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="case.transition", subject=("case", case.number),
                 case_number=case.number, before={"status": before.value}, after={"status": S.closed.value},
                 reason="personal data erased", origin=origin)
    checklist.cancel_open(session, case, actor=actor, reason="personal data erased", origin=origin)


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
    """A public message or internal note on the case; audited. Refused (``CaseErased``) on a case
    whose personal data was erased: nothing written there would ever be erased."""
    if case.erased_at is not None:
        raise CaseErased()
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


# -- review: claiming, decisions, requests for information, the sweep -------------------
# (appended by the review feature; every write checks the version the agent saw)


class StaleCase(Refused):
    """The case changed after the agent loaded it; nothing was written."""

    status = 409

    def __init__(self, number: str):
        super().__init__("stale_case", f"Case {number} changed after it was loaded. Reload it and try again.")
        self.number = number


class ClaimedByOther(Refused):
    """Someone else holds the case; release or reassign it first."""

    status = 409

    def __init__(self, number: str):
        super().__init__("claimed_by_other", f"Someone else holds case {number}: release or reassign it first.")
        self.number = number


def expect_version(case: Case, version: int | str | None) -> None:
    """Refuse a write based on an older version of the case (optimistic locking)."""
    if version is None or str(version) != str(case.version):
        raise StaleCase(case.number)


def _touch(session: Session, case: Case) -> None:
    case.updated_at = utcnow()
    session.add(case)
    session.flush()


def claim(session: Session, case: Case, *, agent_id: int, version: int | str | None, actor: audit.Actor,
          origin: audit.Origin | None = None) -> Case:
    """Make ``agent_id`` the assignee (a new case moves to in_review); refuses someone else's case."""
    expect_version(case, version)
    if case.assignee_id not in (None, agent_id):
        raise ClaimedByOther(case.number)
    if case.status not in OPEN:
        raise TransitionError(f"a {case.status.value} case cannot be claimed")
    before = case.assignee_id
    case.assignee_id = agent_id
    _touch(session, case)
    audit.record(session, actor=actor, action="case.claimed", subject=("case", case.number), case_number=case.number,
                 before={"assignee_id": before}, after={"assignee_id": agent_id}, origin=origin)
    if case.status == S.new:
        transition(session, case, S.in_review, actor=actor, reason="claimed", origin=origin)
    return case


def release(session: Session, case: Case, *, version: int | str | None, actor: audit.Actor,
            origin: audit.Origin | None = None) -> Case:
    """Give the case back to the queue (an in_review case becomes new again)."""
    expect_version(case, version)
    before = case.assignee_id
    case.assignee_id = None
    _touch(session, case)
    audit.record(session, actor=actor, action="case.released", subject=("case", case.number), case_number=case.number,
                 before={"assignee_id": before}, after={"assignee_id": None}, origin=origin)
    if case.status == S.in_review:
        transition(session, case, S.new, actor=actor, reason="released", origin=origin)
    return case


def reassign(session: Session, case: Case, *, agent_id: int | None, version: int | str | None, actor: audit.Actor,
             reason: str | None = None, origin: audit.Origin | None = None) -> Case:
    """Hand the case to another agent (a supervisor's call; the caller checks the role)."""
    expect_version(case, version)
    before = case.assignee_id
    case.assignee_id = agent_id
    _touch(session, case)
    audit.record(session, actor=actor, action="case.reassigned", subject=("case", case.number),
                 case_number=case.number, before={"assignee_id": before}, after={"assignee_id": agent_id},
                 reason=reason, origin=origin)
    if case.status == S.new and agent_id is not None:
        transition(session, case, S.in_review, actor=actor, reason="reassigned", origin=origin)
    return case


def take_next(session: Session, *, agent_id: int, actor: audit.Actor, origin: audit.Origin | None = None) -> Case | None:
    """Claim the most urgent unassigned new case (earliest SLA due); None when the queue is empty.

    Rows another transaction is claiming are skipped (PostgreSQL SKIP LOCKED; SQLite
    serialises writers), so two agents never get the same case.
    """
    query = (select(Case).where(Case.status == S.new, Case.assignee_id.is_(None))
             .order_by(Case.sla_due_at, Case.id).limit(1).with_for_update(skip_locked=True))
    case = session.exec(query).first()
    if case is None:
        return None
    return claim(session, case, agent_id=agent_id, version=case.version, actor=actor, origin=origin)


def request_information(session: Session, case: Case, *, requested: dict[str, str], body: str,
                        version: int | str | None, actor: audit.Actor, question: str | None = None,
                        origin: audit.Origin | None = None) -> Message:
    """Ask the claimant for more and wait until every item of the checklist is answered.

    The checklist (``checklist.create``) holds every file judged "needs a new upload" that
    has no replacement yet, a file per kind in ``requested`` (kind -> what is needed) and
    the free ``question``; refuses with ValueError when that makes no item at all.
    """
    expect_version(case, version)
    question = (question or "").strip() or None
    if not requested and not question and not verdicts.outstanding(session, case):
        raise ValueError("say what is needed for at least one kind of evidence, or ask a question")
    if S.waiting_on_claimant not in TRANSITIONS[case.status]:
        raise TransitionError(f"a {case.status.value} case cannot wait on the claimant")
    message = add_message(session, case, body=body, actor=actor, requested=requested, origin=origin)
    documents = {EvidenceKind(kind): note for kind, note in requested.items()}
    checklist.create(session, case, message, documents=documents, question=question, actor=actor, origin=origin)
    transition(session, case, S.waiting_on_claimant, actor=actor, reason="more information requested", origin=origin)
    return message


class NotTheHolder(Refused):
    """Only the agent holding a case, or a supervisor, decides it."""

    status = 403

    def __init__(self, number: str):
        super().__init__("not_the_holder", f"Only the agent who holds case {number}, or a supervisor, can decide it. "
                                           "Claim it first.")


class ApprovalBlocked(Refused):
    """A hard failure (``checks.BLOCKING``) forbids approving; rejecting stays possible."""

    status = 409

    def __init__(self, failed: list[dict]):
        reasons = "; ".join(check["detail"] for check in failed)
        super().__init__("approval_blocked", f"This case cannot be approved: {reasons}. "
                                             "Reject it or send it to a supervisor.")


def decide(session: Session, case: Case, *, approve: bool, agent_id: int, public_reason: str, internal_note: str | None,
           version: int | str | None, actor: audit.Actor, config: dict, supervisor: bool = False,
           origin: audit.Origin | None = None) -> Case:
    """Approve or reject an in-review case; the public reason is also a message to the claimant.

    Only the holder (or a supervisor) decides; an approval is judged on checks re-run now,
    since the directory may have learnt since filing that the device is lost or stolen.
    """
    expect_version(case, version)
    if not public_reason.strip():
        raise ValueError("a decision needs a reason the claimant can read")
    if case.assignee_id != agent_id and not supervisor:
        raise NotTheHolder(case.number)
    to = S.approved if approve else S.rejected
    if to not in TRANSITIONS[case.status]:
        raise TransitionError(f"a {case.status.value} case cannot become {to.value}")
    if approve:
        if waiting := verdicts.outstanding(session, case):  # a file judged "needs a new upload", not yet replaced
            raise verdicts.UploadsOutstanding(waiting)
        checks.recheck(session, case, config, origin)
        if failed := checks.blocking(case.checks):
            raise ApprovalBlocked(failed)
    case.decision = to.value
    case.decision_reason, case.decision_note = public_reason.strip(), (internal_note or "").strip() or None
    case.decided_by_id, case.decided_at = agent_id, utcnow()
    add_message(session, case, body=case.decision_reason, actor=actor, origin=origin)
    if case.decision_note:
        add_message(session, case, body=case.decision_note, actor=actor,
                    visibility=MessageVisibility.internal, origin=origin)
    audit.record(session, actor=actor, action=f"case.{to.value}", subject=("case", case.number),
                 case_number=case.number, after={"decision": to.value, "kind": case.kind.value},
                 reason=case.decision_reason, origin=origin)
    return transition(session, case, to, actor=actor, reason=case.decision_reason, origin=origin)


@dataclass
class SweepResult:
    """What one sweep changed; the caller emails the reminded and closed claimants after commit."""

    reminded: list[Case]
    closed: list[Case]
    breached: list[Case]


SWEEPER = audit.Actor("system", None, "case sweep")


def sweep(session: Session, *, config: dict, now=None) -> SweepResult:
    """Remind waiting claimants, close unanswered cases, flag SLA breaches. Idempotent."""
    now = now or utcnow()
    result = SweepResult([], [], [])
    waiting = select(Case).where(Case.status == S.waiting_on_claimant)
    close_before = now - timedelta(days=config["AUTO_CLOSE_AFTER_DAYS"])
    for case in session.exec(waiting.where(Case.waiting_since <= close_before)).all():
        transition(session, case, S.closed, actor=SWEEPER, reason="no answer from the claimant")
        result.closed.append(case)
    remind_before = now - timedelta(days=config["REMIND_AFTER_DAYS"])
    for case in session.exec(waiting.where(Case.waiting_since <= remind_before, Case.reminded_at.is_(None))).all():
        case.reminded_at = now
        _touch(session, case)
        audit.record(session, actor=SWEEPER, action="case.reminded", subject=("case", case.number),
                     case_number=case.number, after={"reminded_at": now.isoformat()})
        result.reminded.append(case)
    late = select(Case).where(Case.status.in_((S.new, S.in_review)), Case.sla_due_at < now,
                              Case.sla_breached.is_(False))
    for case in session.exec(late).all():
        case.sla_breached = True
        _touch(session, case)
        audit.record(session, actor=SWEEPER, action="case.sla_breached", subject=("case", case.number),
                     case_number=case.number, after={"sla_due_at": case.sla_due_at.isoformat()})
        result.breached.append(case)
    return result
