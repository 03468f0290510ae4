"""What a case report says, read from the database in one go.

Reading is kept apart from rendering so the bulk export can read in a short
transaction, render with no database lock held, and record the audit event after.
Everything here works for a case in any state: sections the case has not reached yet
are simply empty.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlmodel import Session, select

from .. import audit, personal
from ..directory import directory
from ..models import (Account, Action, Agent, AuditCheckpoint, AuditEvent, Case, Device, Evidence, ExtractedValue,
                      Message, utcnow)

DEVICE_FACTS = ("id", "imei1", "imei2", "serial", "model", "account_id", "bound_at", "lost_or_stolen")
ACCOUNT_FACTS = ("id", "email", "phone", "status", "failed_attempts", "locked_at", "lock_reason", "last_sign_in_at")


@dataclass
class DirectoryFacts:
    """The device and account the case is about, as they were at ``as_of``."""

    device: dict | None
    account: dict | None
    #: "decision" (rolled back through the audit trail to the decision) or "generation"
    as_of: str
    at: datetime


@dataclass
class ReportData:
    """Everything the internal report shows; plain values and detached rows, no lazy loading.

    The claimant's copy is not this with parts hidden: it is built on its own (``claimant.py``).
    """

    for_claimant: ClassVar[bool] = False

    case: Case
    language: str
    generated_at: datetime
    generated_by: audit.Actor
    agent_names: dict[int, str]
    facts: DirectoryFacts
    evidence: list[Evidence]
    messages: list[Message]
    actions: list[Action]
    events: list[AuditEvent]
    head: AuditEvent | None
    checkpoint: AuditCheckpoint | None
    #: per evidence id, the values its analysis read (with any agent's correction), in reading order
    extracted: dict[int, list[ExtractedValue]] = field(default_factory=dict)
    #: per event sequence number, the personal values its tokens stand for (the attachment's ``personal``)
    personal: dict[int, dict] = field(default_factory=dict)

    def agent(self, agent_id: int | None) -> str:
        return "" if agent_id is None else self.agent_names.get(agent_id, f"#{agent_id}")


def gather(session: Session, case: Case, *, language: str, generated_by: audit.Actor, config: dict) -> ReportData:
    """Read everything the report of ``case`` shows, as of now."""
    evidence = list(session.exec(select(Evidence).where(Evidence.case_id == case.id)
                                 .order_by(Evidence.created_at, Evidence.id)))
    messages = list(session.exec(select(Message).where(Message.case_id == case.id)
                                 .order_by(Message.created_at, Message.id)))
    actions = list(session.exec(select(Action).where(Action.case_id == case.id).order_by(Action.requested_at, Action.id)))
    events = list(session.exec(select(AuditEvent).where(AuditEvent.case_number == case.number).order_by(AuditEvent.seq)))
    extracted: dict[int, list[ExtractedValue]] = {}
    if evidence:
        for value in session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id.in_([item.id for item in evidence]))
                                  .order_by(ExtractedValue.evidence_id, ExtractedValue.id)):
            extracted.setdefault(value.evidence_id, []).append(value)
    return ReportData(
        case=case,
        language=language,
        generated_at=utcnow(),
        generated_by=generated_by,
        agent_names=_agent_names(session, case, messages, actions,
                                 [value.corrected_by_id for values in extracted.values() for value in values]
                                 + [item.verdict_by_id for item in evidence]),
        facts=_directory_facts(session, case, actions, config),
        evidence=evidence,
        messages=messages,
        actions=actions,
        events=personal.reveal(session, events),
        head=audit.head(session),
        checkpoint=audit.latest_checkpoint(session),
        extracted=extracted,
        personal=personal.personal_map(session, events),
    )


def _agent_names(session: Session, case: Case, messages: list[Message], actions: list[Action],
                 correctors: list[int | None] = ()) -> dict[int, str]:
    ids = {case.assignee_id, case.decided_by_id, *(m.author_agent_id for m in messages), *correctors}
    for action in actions:
        ids |= {action.requested_by_id, action.approved_by_id, action.executed_by_id}
    ids.discard(None)
    if not ids:
        return {}
    return {agent.id: agent.name for agent in session.exec(select(Agent).where(Agent.id.in_(ids)))}


def _directory_facts(session: Session, case: Case, actions: list[Action], config: dict) -> DirectoryFacts:
    """The device and account of the case; rolled back to the decision when there was one.

    The directory only knows its present state. Every change made through Recovery Desk
    is audited with its ``before`` values, so undoing the audited changes made after the
    decision, newest first, gives the facts the decision was taken on.
    """
    accounts = directory(session, config)
    target = next((a for a in reversed(actions) if a.target_device_id or a.target_account_id), None)
    device = session.get(Device, target.target_device_id) if target and target.target_device_id else None
    device = device or accounts.find_device(case.imei1) or (accounts.find_device(case.imei2) if case.imei2 else None)
    account = _account_of(accounts, case, device, target)
    device_facts = _row(device, DEVICE_FACTS)
    account_facts = _row(account, ACCOUNT_FACTS)
    as_of, at = "generation", utcnow()
    if case.decided_at is not None:
        as_of, at = "decision", case.decided_at
        device_facts = _rolled_back(session, "device", device_facts, case.decided_at)
        account_facts = _rolled_back(session, "account", account_facts, case.decided_at)
    return DirectoryFacts(device=device_facts, account=account_facts, as_of=as_of, at=at)


def _account_of(accounts, case: Case, device: Device | None, target: Action | None) -> Account | None:
    if target and target.target_account_id:
        return accounts.get_account(target.target_account_id)
    if device is not None and device.account_id is not None:
        return accounts.get_account(device.account_id)
    if case.hint_account_id and case.hint_account_id.isdigit() and len(case.hint_account_id) < 19:
        found = accounts.get_account(int(case.hint_account_id))
        if found:
            return found
    for hint in (case.hint_email, case.hint_phone):
        found = accounts.find_account(hint) if hint else None
        if found:
            return found
    return None


def _row(row, names: tuple[str, ...]) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in names}


def _rolled_back(session: Session, subject_type: str, facts: dict | None, since: datetime) -> dict | None:
    if facts is None:
        return None
    later = personal.reveal(session, list(session.exec(
        select(AuditEvent).where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == str(facts["id"]),
                                 AuditEvent.at > since).order_by(AuditEvent.seq.desc()))))
    facts = dict(facts)
    for event in later:
        facts.update({key: value for key, value in (event.before or {}).items() if key in facts and key != "id"})
    return facts
