"""The action service: each kind end to end, four-eyes, cooling-off, hard blocks, exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from support import actions, audit, personal, stepup
from support.models import (Account, AccountStatus, Action, ActionStatus, Agent, AuditEvent, Case,
                            CaseKind, CaseStatus, Device, Evidence, EvidenceKind, Message, Role, utcnow)


def stepped_up(agent_id: int) -> stepup.SteppedUp:
    """What a passed step-up gives the views (the codes themselves are tested on the pages)."""
    return stepup.SteppedUp(agent_id, utcnow())


def events(session, action_name: str) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action_name)).one()


def test_unlock_runs_once_and_tells_the_claimant_in_their_language(app, tx, make_agent, approved_case, outbox):
    agent = make_agent(Role.agent)
    case, account, _device = approved_case(CaseKind.locked_account, locked=True, language="ru")
    with tx() as session:
        outcome = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                  config=app.config)
        assert (outcome.code, outcome.action.status) == ("scheduled", ActionStatus.scheduled)
        action_id = outcome.action.id
    with tx() as session:
        outcome = actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                  config=app.config)
        assert outcome.code == "executed"
    with tx() as session:
        assert session.get(Account, account.id).status == AccountStatus.active
        assert session.get(Account, account.id).failed_attempts == 0
        stored = session.get(Case, case.id)
        assert stored.status == CaseStatus.closed
        message = session.exec(select(Message).where(Message.case_id == case.id).order_by(Message.id.desc())).first()
        assert "разблокирован" in message.body and "/account/sign-in" in message.body
        statuses = [event.after["status"] for event in session.exec(
            select(AuditEvent).where(AuditEvent.case_number == case.number, AuditEvent.action == "case.transition")
            .order_by(AuditEvent.seq))][-2:]
        assert statuses == ["executed", "closed"]
        before = events(session, "action.executed")
    mails = [mail for mail in outbox() if mail[1] == "claimant@example.test"]
    assert mails and "разблокирован" in mails[-1][3]
    with tx() as session:  # a second attempt (double click, retry) changes nothing and says so
        with pytest.raises(actions.ActionRefused) as refused:
            actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                            config=app.config)
        assert refused.value.code == "already_executed"
    with tx() as session:
        assert events(session, "action.executed") == before == 1
        assert audit.verify(session).ok


def test_force_unbind_needs_another_supervisor_then_cools_off(app, tx, make_agent, approved_case, outbox):
    supervisor_a, supervisor_b = make_agent(Role.supervisor), make_agent(Role.supervisor)
    agent = make_agent(Role.agent)
    case, account, device = approved_case(CaseKind.device_unbind)
    with tx() as session:
        outcome = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, supervisor_a.id), step_up=stepped_up(supervisor_a.id),
                                  config=app.config)
        assert outcome.action.status == ActionStatus.pending_approval
        action_id = outcome.action.id
    with tx() as session:
        action = session.get(Action, action_id)
        with pytest.raises(actions.ActionRefused, match="someone else") as refused:
            actions.approve(session, action, approver=session.get(Agent, supervisor_a.id), step_up=stepped_up(supervisor_a.id), config=app.config)
        assert refused.value.code == "self_approval"
        with pytest.raises(actions.ActionRefused) as refused:
            actions.approve(session, action, approver=session.get(Agent, agent.id), step_up=stepped_up(agent.id), config=app.config)
        assert refused.value.code == "forbidden"
        with pytest.raises(actions.ActionRefused) as refused:
            actions.execute(session, action, executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id), config=app.config)
        assert refused.value.code == "not_scheduled"
    with tx() as session:
        outcome = actions.approve(session, session.get(Action, action_id),
                                  approver=session.get(Agent, supervisor_b.id), step_up=stepped_up(supervisor_b.id), config=app.config)
        assert outcome.action.status == ActionStatus.scheduled
        not_before = outcome.action.not_before
        assert timedelta(hours=71, minutes=59) < not_before - utcnow() <= timedelta(hours=72)
    sent = outbox()
    assert {(kind, to) for kind, to, _s, _b in sent} == {("email", account.email), ("sms", account.phone)}
    assert all("/object/" in body for *_head, body in sent)
    assert sent[0][3].startswith("Salve,")  # the phone is +39: the notice is in Italian
    with tx() as session:
        with pytest.raises(actions.ActionRefused) as refused:
            actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                            config=app.config)
        assert refused.value.code == "cooling_off"
    with app.app_context():
        assert actions.run_due() == []
        results = actions.run_due(now=not_before + timedelta(seconds=1))
        assert [(action_id, "executed")] == [(number, code) for number, code, _m in results]
        assert actions.run_due(now=not_before + timedelta(seconds=2)) == []  # a second cron run: nothing due
    with tx() as session:
        assert session.get(Device, device.id).account_id is None
        assert session.get(Action, action_id).executed_by_id is None
        assert session.get(Case, case.id).status == CaseStatus.closed
        assert events(session, "action.executed") == 1


def test_no_one_unbinds_a_lost_or_stolen_device(app, tx, make_agent, approved_case):
    admin = make_agent(Role.admin)
    case, _account, _device = approved_case(CaseKind.device_unbind, lost_or_stolen=True)
    with tx() as session:
        with pytest.raises(actions.ActionRefused) as refused:
            actions.request(session, session.get(Case, case.id), requester=session.get(Agent, admin.id), step_up=stepped_up(admin.id),
                            config=app.config)
        assert refused.value.code == "lost_or_stolen"


def test_a_device_reported_stolen_after_approval_is_cancelled_not_unbound(app, tx, make_agent, approved_case):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0
    case, account, device = approved_case(CaseKind.device_unbind)
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                    config=app.config).action.id
    with tx() as session:
        actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                        config=app.config)
        session.get(Device, device.id).lost_or_stolen = True
    with app.app_context():
        assert [code for _id, code, _m in actions.run_due()] == ["cancelled"]
    with tx() as session:
        assert session.get(Device, device.id).account_id == account.id
        assert session.get(Action, action_id).status == ActionStatus.cancelled


def test_an_account_used_since_filing_waits_for_a_supervisor(app, tx, make_agent, approved_case):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    case, account, _device = approved_case(CaseKind.locked_account, locked=True)
    with tx() as session:
        session.get(Account, account.id).last_sign_in_at = utcnow()
    with tx() as session:
        outcome = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                  config=app.config)
        assert (outcome.code, outcome.action.status) == ("held", ActionStatus.pending_approval)
        action_id = outcome.action.id
    with tx() as session:
        outcome = actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                                  config=app.config)
        assert outcome.action.status == ActionStatus.scheduled
    with tx() as session:
        actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                        config=app.config)
        assert session.get(Account, account.id).status == AccountStatus.active


def test_new_evidence_voids_a_pending_approval(app, tx, make_agent, approved_case):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    case, _account, _device = approved_case(CaseKind.lost_credentials)
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                    config=app.config).action.id
    with tx() as session:
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256="ab" * 32,
                             media_type="application/pdf", size=10))
    with tx() as session:
        outcome = actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                                  config=app.config)
        assert outcome.code == "voided"
    with tx() as session:
        action = session.get(Action, action_id)
        assert action.status == ActionStatus.cancelled and "changed" in action.cancel_reason
        assert events(session, "action.voided") == 1


def test_replace_contact_sets_the_claimants_email_after_the_cooling_off(app, tx, make_agent, approved_case):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    case, account, _device = approved_case(CaseKind.lost_credentials, contact_email="New.Me@example.test")
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                    config=app.config).action.id
    with tx() as session:
        not_before = actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id),
                                     step_up=stepped_up(supervisor.id), config=app.config).action.not_before
        assert timedelta(hours=71, minutes=59) < not_before - utcnow() <= timedelta(hours=72)
    with tx() as session:
        with pytest.raises(actions.ActionRefused) as refused:
            actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id),
                            step_up=stepped_up(agent.id), config=app.config)
        assert refused.value.code == "cooling_off"
    with tx() as session:
        assert session.get(Account, account.id).email == account.email  # nothing changed during the cooling-off
        actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                        config=app.config, now=not_before + timedelta(seconds=1))
    with tx() as session:
        assert session.get(Account, account.id).email == "new.me@example.test"
        stored = session.exec(select(AuditEvent).where(AuditEvent.action == "action.executed")).one()
        [event] = personal.reveal(session, [stored])  # with the personal values its tokens stand for
        assert event.after["changed"]["recovery_email"] == {"before": account.email, "after": "new.me@example.test"}


def test_a_device_moved_meanwhile_is_not_unbound(app, tx, make_agent, make_account, approved_case):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0
    case, account, device = approved_case(CaseKind.device_unbind)
    other = make_account(email="someone-else@example.test")
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                    config=app.config).action.id
    with tx() as session:
        actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                        config=app.config)
        session.get(Device, device.id).account_id = other.id  # the owner re-bound it elsewhere
    with app.app_context():
        assert [code for _id, code, _m in actions.run_due()] == ["target_changed"]
    with tx() as session:
        assert session.get(Device, device.id).account_id == other.id
        assert session.get(Action, action_id).status == ActionStatus.scheduled
        assert session.get(Case, case.id).status == CaseStatus.approved
        assert events(session, "action.executed") == 0


def test_the_old_owners_objection_cancels_and_flags(app, tx, make_agent, approved_case, outbox):
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    case, _account, device = approved_case(CaseKind.device_unbind)
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                                    config=app.config).action.id
    with tx() as session:
        actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                        config=app.config)
    token = outbox()[0][3].split("/object/")[1].split()[0]
    with tx() as session:
        assert actions.find_by_objection(session, "forged") is None
        outcome = actions.object_to(session, actions.find_by_objection(session, token))
        assert outcome.code == "objected"
    with tx() as session:
        stored = session.get(Case, case.id)
        assert stored.flagged and "not me" in stored.flag_reason and stored.status == CaseStatus.in_review
        assert actions.object_to(session, session.get(Action, action_id)).code == "already_objected"
        assert session.get(Device, device.id).account_id is not None
        assert audit.verify(session).ok


def test_only_an_approved_case_gets_one_open_action(app, tx, make_agent, make_case, approved_case):
    agent = make_agent(Role.agent)
    in_review, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)
    case, _account, _device = approved_case(CaseKind.device_unbind)
    with tx() as session:
        with pytest.raises(actions.ActionRefused) as refused:
            actions.request(session, session.get(Case, in_review.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                            config=app.config)
        assert refused.value.code == "case_not_approved"
        actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id), config=app.config)
        with pytest.raises(actions.ActionRefused) as refused:
            actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agent.id), step_up=stepped_up(agent.id),
                            config=app.config)
        assert refused.value.code == "already_open"
