"""The account owner's "this was not me", made loud.

An objection cancels the action (``actions.object_to``) and then, here, in the same
transaction: flags the case with the reason (banner on the case page, flag in the queue,
the supervisors' navigation count, the list on ``/approvals``), emails every active
supervisor, and tells the claimant only that the request is on hold: never why, nor who
objected. The flag stays until a supervisor or admin clears it with a written reason
(``case.flag_cleared``); clearing approves nothing. ``Case.objected_at`` is never cleared:
from the first objection on, only a supervisor or admin may request a privileged action on
the case, and must write why (kept in the ``action.requested`` audit event).
"""
from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import func, text
from sqlmodel import Session, select

from . import audit, cases, links, mail
from .models import (FLAGGED_CASES_SQL, OPEN_CASES_SQL, Action, ActionKind, Agent, Case, CaseStatus, Role, utcnow)
from .refusals import Refused

#: who may clear a flag and request an action on a case the owner objected to
SUPERVISORS = (Role.supervisor, Role.admin)
WHAT = {ActionKind.force_unbind: "the force-unbind", ActionKind.replace_contact: "the recovery-contact change",
        ActionKind.unlock_account: "the unlock"}


class FlagRefused(Refused):
    """A flag cannot be cleared (or an action requested) by this person, or not without a reason."""

    status = 409


class SupervisorOnly(FlagRefused):
    status = 403


def flag(session: Session, case: Case, action: Action, *, owner: audit.Actor, origin: audit.Origin | None) -> None:
    """Flag ``case`` for the objection to ``action`` (already cancelled), then tell supervisors and the claimant."""
    now = utcnow()
    case.flagged, case.objected_at = True, now
    case.flag_reason = f"The account owner objected to {WHAT[action.kind]} (\"this was not me\")."
    session.add(case)
    session.flush()
    audit.record(session, actor=owner, action="case.flagged", subject=("case", case.number),
                 case_number=case.number, after={"flagged": True, "action": action.id}, reason=case.flag_reason,
                 origin=origin)
    if case.status == CaseStatus.approved:
        cases.transition(session, case, CaseStatus.in_review, actor=owner, reason="the account owner objected",
                         origin=origin)
    _tell_supervisors(session, case, action)
    _tell_claimant_on_hold(session, case, origin)


def _tell_supervisors(session: Session, case: Case, action: Action) -> None:
    """An email to every active supervisor, each in their own language."""
    supervisors = session.exec(select(Agent).where(Agent.role == Role.supervisor, Agent.active.is_(True))
                               .order_by(Agent.id))
    context = {"case": case, "action": action, "case_url": links.public("review.case", number=case.number)}
    for supervisor in supervisors:
        language = supervisor.language or "en"
        with force_locale(language):
            subject = render_template("emails/objection_supervisor_subject.txt", **context).strip()
            body = render_template("emails/objection_supervisor.txt", **context)
        mail.queue_email(session, to=supervisor.email, subject=subject, body=body, language=language)


def _tell_claimant_on_hold(session: Session, case: Case, origin: audit.Origin | None) -> None:
    """A public message and an email in the claimant's language: on hold, and nothing about why."""
    context = {"case": case, "case_url": links.case_page(case)}
    with force_locale(case.language or "en"):
        body = render_template("emails/objection_on_hold.txt", **context).strip()
        subject = render_template("emails/objection_on_hold_subject.txt", **context).strip()
        case_link = render_template("emails/_case_link.txt", **context).strip()
    cases.add_message(session, case, body=body, actor=audit.SYSTEM, origin=origin)
    mail.queue_email(session, to=case.contact_email, subject=subject, body=f"{body}\n\n{case_link}\n",
                     language=case.language or "en")


def clear(session: Session, case: Case, *, agent: Agent, reason: str, origin: audit.Origin | None = None) -> None:
    """A supervisor or admin resolves the flag, in writing. The case's status and actions stay as they are."""
    if agent.role not in SUPERVISORS:
        raise SupervisorOnly("forbidden", "Only a supervisor or an admin can clear a flag.")
    if not case.flagged:
        raise FlagRefused("not_flagged", "This case is not flagged.")
    reason = (reason or "").strip()
    if not reason:
        raise FlagRefused("reason_required", "Write why the flag can be cleared.", field="reason")
    before = {"flagged": True, "flag_reason": case.flag_reason}
    case.flagged, case.flag_reason, case.updated_at = False, None, utcnow()
    session.add(case)
    session.flush()
    audit.record(session, actor=audit.Actor("agent", str(agent.id), agent.name), action="case.flag_cleared",
                 subject=("case", case.number), case_number=case.number, before=before, after={"flagged": False},
                 reason=reason, origin=origin)


def request_reason(case: Case, requester: Agent, reason: str | None) -> str | None:
    """The written reason a request on an objected-to case needs (None for any other case); refuses without one."""
    if case.objected_at is None:
        return None
    if requester.role not in SUPERVISORS:
        raise SupervisorOnly("supervisor_required", "The account owner objected on this case: only a supervisor "
                                                    "can request an action, with a written reason.")
    reason = (reason or "").strip()
    if not reason:
        raise FlagRefused("reason_required", "The account owner objected on this case: write why the action "
                                             "should be requested again.", field="reason")
    return reason


def open_flagged_count(session: Session) -> int:
    """Flagged cases still open (the supervisors' badge, on every page they load): one count
    over a small partial index (``ix_case_flagged`` on PostgreSQL). SQLite is told which one:
    left to itself, with statistics, it counted through a status index, every open case
    (a second at a million cases)."""
    if session.get_bind().dialect.name == "sqlite":
        return session.execute(text(f'SELECT count(*) FROM "case" INDEXED BY ix_case_flagged_open_sla '
                                    f"WHERE {FLAGGED_CASES_SQL} AND {OPEN_CASES_SQL}")).scalar_one()
    return session.exec(select(func.count()).select_from(Case)
                        .where(text(FLAGGED_CASES_SQL), text(OPEN_CASES_SQL))).one()


def flagged(session: Session, limit: int = 200) -> list[Case]:
    """Every flagged case (whatever its status), most urgent first, for the supervisors' list."""
    return list(session.exec(select(Case).where(text(FLAGGED_CASES_SQL)).order_by(Case.sla_due_at, Case.id)
                             .limit(limit)))
