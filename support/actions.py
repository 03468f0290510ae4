"""Privileged actions: unlock an account, replace its recovery contact, force-unbind a device.

These are the moments where the desk can hand a stolen phone to a thief, so each one is
guarded here, not in the views: four-eyes for force-unbind and replace-contact (voided
when the case's evidence or checks change); a notice with a "this was not me" link to
the account's contacts (current ones and those recorded when a case was filed,
``notices``) whenever an action is scheduled, followed by a cooling-off for force-unbind
and replace-contact; a second supervisor's acknowledgement when the account has no
contact to tell (then an unlock needs approval too); hard blocks (a lost or stolen
device is never unbound; an account used since the case was filed is never unlocked
without a supervisor); step-up (a one-time code) by the agent at every privileged step,
so ``run-due`` executes only what was requested and approved with it; execution as a
compare-and-set so a second attempt changes nothing; and the owner's objection made loud
(``objections``): after it only a supervisor, in writing, may request an action on the
case. Every change, its notices, its audit event and the case transition share the
caller's transaction.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from . import audit, cases, checks, db, jobs, links, mail, notices, objections, stepup
from .directory import DirectoryError, directory
from .refusals import Refused
from .models import (Account, AccountStatus, Action, ActionKind, ActionStatus, Agent, Case, CaseKind, CaseStatus,
                     Device, Role, utcnow)

ACTION_FOR_KIND = {
    CaseKind.locked_account: ActionKind.unlock_account,
    CaseKind.lost_credentials: ActionKind.replace_contact,
    CaseKind.device_unbind: ActionKind.force_unbind,
}
#: kinds a supervisor who is not the requester must approve
FOUR_EYES = {ActionKind.force_unbind, ActionKind.replace_contact}
#: the setting that gives each kind's cooling-off after its notice; an unlock has none (see docs/actions.md)
COOLING_OFF = {ActionKind.force_unbind: "UNBIND_COOLING_OFF_HOURS", ActionKind.replace_contact: "CONTACT_COOLING_OFF_HOURS"}
APPROVERS = (Role.supervisor, Role.admin)
OPEN = (ActionStatus.pending_approval, ActionStatus.scheduled)


class ActionRefused(Refused):
    """The action cannot be requested, approved, executed or cancelled; ``code`` says why."""

    status = 409


@dataclass(frozen=True)
class Outcome:
    """What a call did: ``code`` is requested, approved, scheduled, executed, held, voided or cancelled."""

    action: Action
    code: str
    message: str


def _agent_actor(agent: Agent) -> audit.Actor:
    return audit.Actor("agent", str(agent.id), agent.name)


def _record(session: Session, action: Action, case: Case, verb: str, *, actor: audit.Actor, before: dict | None,
            reason: str | None = None, origin: audit.Origin | None = None, **extra) -> None:
    audit.record(session, actor=actor, action=f"action.{verb}", subject=("action", action.id),
                 case_number=case.number, before=before, after={**action.snapshot(), **extra},
                 reason=reason, origin=origin)


# -- look-ups -------------------------------------------------------------------------


def for_case(session: Session, case: Case) -> list[Action]:
    return list(session.exec(select(Action).where(Action.case_id == case.id).order_by(Action.id.desc())))


def open_action(session: Session, case: Case) -> Action | None:
    return session.exec(select(Action).where(Action.case_id == case.id, Action.status.in_(OPEN))).first()


def awaiting_approval(session: Session) -> list[tuple[Action, Case]]:
    """The supervisors' queue: pending approvals first, oldest first, then what is scheduled."""
    rows = session.exec(select(Action, Case).join(Case, Case.id == Action.case_id)
                        .where(Action.status.in_(OPEN)).order_by(Action.status, Action.requested_at))
    return list(rows)


def pending_approval_count(session: Session) -> int:
    """Actions waiting for a second approver (the navigation badge): one count over ``ix_action_status``."""
    return session.exec(select(func.count()).select_from(Action)
                        .where(Action.status == ActionStatus.pending_approval)).one()


def case_of(session: Session, action: Action) -> Case:
    return session.get(Case, action.case_id)


def _current(session: Session, row: Action | Case) -> None:
    """Lock ``row`` and read it again: what a decision is about must be as it is now, not as it
    was when the request loaded it. A second agent (another server, a double click, the
    worker's run-due) waits here for the first to commit, then sees what it did, instead of
    failing the version check half-way through with a 500."""
    session.refresh(row, with_for_update=True)


# -- request --------------------------------------------------------------------------


def _resolve_target(session: Session, case: Case, kind: ActionKind, config: dict) -> tuple[Account | None, Device | None]:
    """The account and device the case is about, found through the directory; refuses a guess."""
    accounts = directory(session, config)
    device = next(filter(None, (accounts.find_device(imei) for imei in (case.imei1, case.imei2) if imei)), None)
    if kind == ActionKind.force_unbind:
        if device is None:
            raise ActionRefused("no_device", "The directory has no device with the IMEI of this case.")
        if device.account_id is None:
            raise ActionRefused("not_bound", "This device is not bound to any account.")
        return accounts.get_account(device.account_id), device
    found = notices.accounts_of_case(session, case, config)
    if not found:
        raise ActionRefused("no_account", "No account in the directory matches this case's hints or device.")
    if len(found) > 1:
        raise ActionRefused("ambiguous_account",
                            "The hints and the device point to different accounts: resolve this before acting.")
    return found[0], device


def unreachable_account(session: Session, case: Case, config: dict) -> int | None:
    """The ID of the account the case's action is (or would be) for, when it has no contact to tell."""
    action = open_action(session, case)
    if action is not None:
        account = session.get(Account, action.target_account_id)
    else:
        try:
            account, _device = _resolve_target(session, case, ACTION_FOR_KIND[case.kind], config)
        except ActionRefused:
            return None
    return None if account is None or notices.recipients(session, account) else account.id


def _used_since_filing(account: Account, case: Case) -> bool:
    return account.last_sign_in_at is not None and account.last_sign_in_at > case.created_at


def _refuse_lost_or_stolen(device: Device | None) -> None:
    if device is not None and device.lost_or_stolen:
        raise ActionRefused("lost_or_stolen", "This device is reported lost or stolen: no one can unbind it.")


def request(session: Session, case: Case, *, requester: Agent, step_up: stepup.SteppedUp | None, config: dict,
            reason: str | None = None, origin: audit.Origin | None = None) -> Outcome:
    """Ask for the action the case's kind calls for; refuses unless the case is approved and the
    requester passed step-up. After an objection only a supervisor may ask, with ``reason``."""
    if requester.role not in (Role.agent, Role.supervisor, Role.admin):
        raise ActionRefused("forbidden", "Only agents, supervisors and admins can request actions.")
    written = objections.request_reason(case, requester, reason)
    stepped_up_at = stepup.proven(step_up, requester)
    _current(session, case)  # two agents asking at once make one action, not two
    if case.status != CaseStatus.approved:
        raise ActionRefused("case_not_approved", "Only an approved case can have an action.")
    if open_action(session, case) is not None:
        raise ActionRefused("already_open", "This case already has an action in progress.")
    kind = ACTION_FOR_KIND[case.kind]
    account, device = _resolve_target(session, case, kind, config)
    if kind == ActionKind.force_unbind:
        _refuse_lost_or_stolen(device)
    if kind == ActionKind.unlock_account and account.status != AccountStatus.locked:
        raise ActionRefused("not_locked", "The account is not locked.")
    if kind == ActionKind.replace_contact and case.contact_confirmed_at is None:
        raise ActionRefused("contact_unconfirmed", "The claimant has not confirmed the contact email.")
    held = kind == ActionKind.unlock_account and _used_since_filing(account, case)
    unreachable = not notices.recipients(session, account)
    needs_approval = kind in FOUR_EYES or held or unreachable
    now = utcnow()
    action = Action(case_id=case.id, kind=kind, target_account_id=account.id,
                    target_device_id=device.id if device and kind == ActionKind.force_unbind else None,
                    evidence_digest=checks.digest(case, session), requested_by_id=requester.id, requested_at=now,
                    requested_with_step_up_at=stepped_up_at,
                    status=ActionStatus.pending_approval if needs_approval else ActionStatus.scheduled)
    session.add(action)
    session.flush()
    notified = None if needs_approval else _schedule(session, action, now, config)
    held_reason = "the account was signed in to after the case was filed: supervisor review" if held else None
    unreachable_reason = "the account has no contact to notify: supervisor acknowledgement" if unreachable else None
    _record(session, action, case, "requested", actor=_agent_actor(requester), before=None,
            reason="; ".join(filter(None, (written, held_reason, unreachable_reason))) or None, origin=origin,
            notified=notified or None)
    if held:
        return Outcome(action, "held", "The account was signed in to after the case was filed, "
                                       "so a supervisor must review this unlock.")
    if unreachable:
        return Outcome(action, "requested", "Requested. This account has no contact to notify, so a supervisor "
                                            "who is not you must approve it and acknowledge that no one can be told.")
    if needs_approval:
        return Outcome(action, "requested", "Requested: a supervisor who is not you must approve it.")
    return Outcome(action, "scheduled", "Requested. The account's contacts were told; it can be executed now.")


# -- approve --------------------------------------------------------------------------


def _void_if_changed(session: Session, action: Action, case: Case, origin: audit.Origin | None) -> Outcome | None:
    """Cancel the action when the evidence or checks changed since it was requested
    (``checks.void_if_stale``; a re-check usually voided it already)."""
    if not checks.void_if_stale(session, action, case, origin):
        return None
    return Outcome(action, "voided", "The evidence or checks changed after the request, so it is void. "
                                     "Review the case and request again.")


def approve(session: Session, action: Action, *, approver: Agent, step_up: stepup.SteppedUp | None, config: dict,
            no_one_can_be_told: bool = False, origin: audit.Origin | None = None) -> Outcome:
    """Second pair of eyes: a supervisor or admin who did not request it, having passed step-up.

    It schedules the action and tells the account's contacts; when there is no one to tell,
    the approver must say so (``no_one_can_be_told``), which the action and the audit keep.
    """
    if approver.role not in APPROVERS:
        raise ActionRefused("forbidden", "Only a supervisor or an admin can approve.")
    if approver.id == action.requested_by_id:
        raise ActionRefused("self_approval", "You requested this action, so someone else must approve it.")
    stepped_up_at = stepup.proven(step_up, approver)
    _current(session, action)
    if action.status != ActionStatus.pending_approval:
        raise ActionRefused("not_pending", f"This action is {action.status.value}, not waiting for approval.")
    case = case_of(session, action)
    voided = _void_if_changed(session, action, case, origin)
    if voided:
        return voided
    if action.kind == ActionKind.force_unbind:
        _refuse_lost_or_stolen(session.get(Device, action.target_device_id))
    before = action.snapshot()
    acknowledged = _acknowledge_no_contact(session, action, approver, no_one_can_be_told)
    now = utcnow()
    action.approved_by_id, action.approved_at, action.approved_with_step_up_at = approver.id, now, stepped_up_at
    action.status = ActionStatus.scheduled
    notified = _schedule(session, action, now, config)
    _record(session, action, case, "approved", actor=_agent_actor(approver), before=before, origin=origin,
            notified=notified or None, no_contact_acknowledged=acknowledged or None,
            reason="no one can be told: the account has no contact to notify" if acknowledged else None)
    when = "it runs after the cooling-off" if action.not_before > now else "it can be executed now"
    if acknowledged:
        return Outcome(action, "approved", f"Approved without a notice (no one can be told); {when}.")
    return Outcome(action, "approved", f"Approved. The account's contacts were told; {when}.")


def _acknowledge_no_contact(session: Session, action: Action, approver: Agent, acknowledged: bool) -> bool:
    """Whether the approval goes ahead with no one to tell; refused unless the approver said so."""
    if notices.recipients(session, session.get(Account, action.target_account_id)):
        return False
    if not acknowledged:
        raise ActionRefused("no_contact_ack_required", "This account has no contact to notify: tick "
                                                       "\"no one can be told\" to approve it anyway.")
    action.no_contact_ack_by_id = approver.id
    return True


def _schedule(session: Session, action: Action, now: datetime, config: dict) -> list[str]:
    """Start the kind's cooling-off, make the objection token and tell the account's contacts."""
    action.not_before = now + timedelta(hours=config[COOLING_OFF[action.kind]] if action.kind in COOLING_OFF else 0)
    token = secrets.token_urlsafe(24)
    action.objection_token_hash = cases.hash_token(token)
    session.add(action)
    session.flush()
    return notices.announce(session, action, token)


# -- execute --------------------------------------------------------------------------


def _effect(session: Session, action: Action, case: Case, config: dict) -> dict:
    """Apply the change through the directory, compare-and-set; returns what changed."""
    accounts = directory(session, config)
    account = accounts.get_account(action.target_account_id)
    if action.kind == ActionKind.force_unbind:
        device = session.get(Device, action.target_device_id)
        if not accounts.unbind(device, expected_account_id=action.target_account_id):
            raise ActionRefused("target_changed", "The device is no longer bound to that account: nothing was done.")
        return {"device": device.imei1, "unbound_from": action.target_account_id}
    if action.kind == ActionKind.unlock_account:
        if account.status != AccountStatus.locked:
            raise ActionRefused("not_locked", "The account is no longer locked: nothing was done.")
        accounts.unlock(account)
        return {"account": account.id, "status": "active"}
    previous = account.email
    try:
        accounts.set_recovery_email(account, case.contact_email)
    except DirectoryError as error:
        raise ActionRefused("email_taken", str(error)) from error
    return {"account": account.id, "recovery_email": {"before": previous, "after": account.email}}


def _recheck_target(session: Session, action: Action, config: dict, origin: audit.Origin | None) -> None:
    """The other open cases about the device or account just changed follow the change."""
    if action.target_device_id:
        checks.recheck_device(session, session.get(Device, action.target_device_id), config, origin)
    else:
        checks.recheck_account(session, session.get(Account, action.target_account_id), config, origin)


def _stepped_up_throughout(action: Action) -> bool:
    """Whether the request, and the approval if there was one, passed step-up."""
    return action.requested_with_step_up_at is not None and (
        action.approved_by_id is None or action.approved_with_step_up_at is not None)


def execute(session: Session, action: Action, *, executor: Agent | None, config: dict,
            step_up: stepup.SteppedUp | None = None, origin: audit.Origin | None = None,
            now: datetime | None = None) -> Outcome:
    """Run the action once. A second attempt, or a stale one, raises ``ActionRefused`` and changes nothing.

    An agent executing now must have passed step-up (``step_up``); ``executor`` None is
    ``run-due``, which runs only an action requested and approved with step-up. On a
    refusal the caller must roll back (a compare-and-set may have failed half-way).
    """
    now = now or utcnow()
    if executor is not None and executor.role not in (Role.agent, Role.supervisor, Role.admin):
        raise ActionRefused("forbidden", "Only agents, supervisors and admins can execute actions.")
    stepped_up_at = stepup.proven(step_up, executor) if executor is not None else None
    _current(session, action)
    if executor is None and not _stepped_up_throughout(action):
        raise ActionRefused("step_up_missing", "It was requested or approved without a one-time code: "
                                               "an agent must execute it with one.")
    if action.status == ActionStatus.executed:
        raise ActionRefused("already_executed", "This action was already executed; nothing was done again.")
    if action.status != ActionStatus.scheduled:
        raise ActionRefused("not_scheduled", f"This action is {action.status.value}: it cannot be executed.")
    if action.not_before and action.not_before > now:
        raise ActionRefused("cooling_off", f"The cooling-off ends at {action.not_before:%Y-%m-%d %H:%M} UTC.")
    case = case_of(session, action)
    voided = _void_if_changed(session, action, case, origin)
    if voided:
        return voided
    actor = _agent_actor(executor) if executor else audit.SYSTEM
    before = action.snapshot()
    if action.kind == ActionKind.force_unbind and session.get(Device, action.target_device_id).lost_or_stolen:
        return _cancel(session, action, case, actor=actor, reason="the device was reported lost or stolen",
                       origin=origin, code="cancelled")
    account = session.get(Account, action.target_account_id)
    if action.kind == ActionKind.unlock_account and action.approved_by_id is None and _used_since_filing(account, case):
        action.status = ActionStatus.pending_approval
        session.add(action)
        session.flush()
        _record(session, action, case, "held", actor=actor, before=before, origin=origin,
                reason="the account was signed in to after the case was filed: supervisor review")
        return Outcome(action, "held", "The account was signed in to after the case was filed, "
                                       "so a supervisor must review this unlock first.")
    action.status, action.executed_at = ActionStatus.executed, now
    action.executed_by_id, action.executed_with_step_up_at = (executor.id if executor else None), stepped_up_at
    session.add(action)
    try:
        session.flush()  # compare-and-set on the action: UPDATE ... WHERE version = the one we read
        changed = _effect(session, action, case, config)
        _record(session, action, case, "executed", actor=actor, before=before, origin=origin, changed=changed)
        cases.transition(session, case, CaseStatus.executed, actor=actor, reason=f"{action.kind.value} executed",
                         origin=origin)
        _tell_claimant(session, action, case, account, config, origin)
        cases.transition(session, case, CaseStatus.closed, actor=actor, reason="recovery completed", origin=origin)
        _recheck_target(session, action, config, origin)
    except StaleDataError as error:
        raise ActionRefused("already_executed", "Someone else executed or changed this action at the same moment; "
                                                "nothing was done again.") from error
    return Outcome(action, "executed", "Executed. The claimant has been told what to do next.")


def _tell_claimant(session: Session, action: Action, case: Case, account: Account, config: dict,
                   origin: audit.Origin | None) -> None:
    """A public message and an email in the claimant's language with what to do next (and the case link)."""
    device = session.get(Device, action.target_device_id) if action.target_device_id else None
    context = {"case": case, "action": action, "account": account, "device": device,
               "sign_in_url": links.public("account.sign_in"), "reset_url": links.public("account.reset"),
               "case_url": links.case_page(case)}
    with force_locale(case.language):
        body = render_template(f"emails/actions_done_{action.kind.value}.txt", **context).strip()
        subject = render_template("emails/actions_done_subject.txt", **context).strip()
        case_link = render_template("emails/_case_link.txt", **context).strip()
    cases.add_message(session, case, body=body, actor=audit.SYSTEM, origin=origin)
    mail.queue_email(session, to=case.contact_email, subject=subject, body=f"{body}\n\n{case_link}\n",
                     language=case.language)


# -- cancel and object ------------------------------------------------------------------


def _cancel(session: Session, action: Action, case: Case, *, actor: audit.Actor, reason: str,
            origin: audit.Origin | None, code: str = "cancelled") -> Outcome:
    if action.status not in OPEN:
        raise ActionRefused("not_open", f"This action is {action.status.value}: it cannot be cancelled.")
    before = action.snapshot()
    action.status, action.cancelled_at, action.cancel_reason = ActionStatus.cancelled, utcnow(), reason
    session.add(action)
    session.flush()
    _record(session, action, case, "cancelled", actor=actor, before=before, reason=reason, origin=origin)
    return Outcome(action, code, f"Cancelled: {reason}.")


def cancel(session: Session, action: Action, *, agent: Agent, reason: str,
           origin: audit.Origin | None = None) -> Outcome:
    """An agent calls the action off (before it ran); the case stays where it is."""
    if agent.role not in (Role.agent, Role.supervisor, Role.admin):
        raise ActionRefused("forbidden", "Only agents, supervisors and admins can cancel actions.")
    if not reason.strip():
        raise ActionRefused("reason_required", "Say why the action is cancelled.")
    _current(session, action)
    return _cancel(session, action, case_of(session, action), actor=_agent_actor(agent), reason=reason.strip(),
                   origin=origin)


def call_off_for_erasure(session: Session, case: Case, *, actor: audit.Actor, reason: str,
                         origin: audit.Origin | None = None) -> int:
    """Cancel every open action of ``case`` (its claimant's data is being erased); returns how many.

    A stale write of an action being executed at the same moment fails on its version, so
    an action is either executed before the erasure or cancelled by it, never half done.
    """
    open_actions = session.exec(select(Action).where(Action.case_id == case.id, Action.status.in_(OPEN))
                                .with_for_update()).all()
    for action in open_actions:
        _cancel(session, action, case, actor=actor, reason=reason, origin=origin)
    return len(open_actions)


def find_by_objection(session: Session, token: str) -> Action | None:
    return session.exec(select(Action).where(Action.objection_token_hash == cases.hash_token(token or ""))).first()


def object_to(session: Session, action: Action, *, origin: audit.Origin | None = None) -> Outcome:
    """The old owner says "this was not me": cancel the action, flag the case loudly (``objections``).

    Once per action: a second press, or a press after the action ran, changes and sends nothing.
    """
    _current(session, action)
    if action.objected_at is not None:
        return Outcome(action, "already_objected", "already objected")
    if action.status == ActionStatus.executed:
        raise ActionRefused("already_executed", "already executed")
    case = case_of(session, action)
    old_owner = audit.Actor("account", str(action.target_account_id), None)
    action.objected_at = utcnow()
    if action.status in OPEN:
        outcome = _cancel(session, action, case, actor=old_owner, reason="the account owner objected: this was not me",
                          origin=origin, code="objected")
    else:  # cancelled already, for another reason: the objection still counts
        session.add(action)
        session.flush()
        outcome = Outcome(action, "objected", "objected")
    objections.flag(session, case, action, owner=old_owner, origin=origin)
    return outcome


# -- cron -------------------------------------------------------------------------------


def due(session: Session, now: datetime | None = None) -> list[int]:
    """Ids of scheduled actions whose cooling-off is over."""
    return list(session.exec(select(Action.id).where(Action.status == ActionStatus.scheduled,
                                                     Action.not_before <= (now or utcnow()))
                             .order_by(Action.not_before)))


def run_due(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Execute every due action, each in its own transaction; returns (id, code, message) per action.

    A refused action rolls back alone and is reported; the others still run.
    """
    app = current_app._get_current_object()
    with db.transaction(app) as session:
        ids = due(session, now)
    results = []
    for action_id in ids:
        try:
            with db.transaction(app) as session:
                action = session.get(Action, action_id)
                outcome = execute(session, action, executor=None, config=app.config, now=now)
                results.append((action_id, outcome.code, outcome.message))
        except ActionRefused as refusal:
            results.append((action_id, refusal.code, refusal.message))
    return results


@jobs.periodic(jobs.crontab(minute="*"))
def run_due_actions() -> int:
    """Every minute, on the worker: what ``actions run-due`` does (exactly once per action)."""
    return len(run_due())
