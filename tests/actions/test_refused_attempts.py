"""Every refused privileged attempt is an audit event that outlives the request's rollback:
wrong and replayed TOTP codes, self-approval, a refused action, sign-ins refused by the
rate limit. None of them carries a case number, so no claimant's copy of a case shows it."""
from __future__ import annotations

from sqlmodel import select

from support import agents, create_app, db
from support.models import Action, ActionStatus, AuditEvent, CaseKind, Role


def refused_events(tx) -> list[AuditEvent]:
    with tx() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action.startswith("refused."))
                                 .order_by(AuditEvent.seq)))


def only_action(tx) -> Action:
    with tx() as session:
        return session.exec(select(Action)).one()


def test_self_approval_and_bad_codes_are_kept(staff, approved_case, tx):
    requester, approver = staff(Role.supervisor), staff(Role.supervisor)
    case, _account, _device = approved_case(CaseKind.device_unbind)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    action = only_action(tx)

    requester.client.post(f"/actions/{action.id}/approve", data={"code": requester.code(1), "next": "/"})
    approver.client.post(f"/actions/{action.id}/approve", data={"code": "000000", "next": "/"})
    code = approver.code()
    approver.client.post(f"/actions/{action.id}/approve", data={"code": code, "next": "/"})
    assert only_action(tx).status == ActionStatus.scheduled
    approver.client.post(f"/actions/{action.id}/execute", data={"code": code, "next": "/"})  # replayed

    events = refused_events(tx)
    assert [event.action for event in events][0] == "refused.self_approval"
    assert [(event.actor_id, event.subject_type, event.subject_id) for event in events] == \
        [(str(requester.agent.id), "action", str(action.id))] + [(str(approver.agent.id), "action", str(action.id))] * 2
    assert all(event.action.startswith("refused.") and "code" in event.action for event in events[1:])
    assert all(event.case_number is None and event.after["path"].startswith("/actions/") for event in events)


def test_a_refused_action_is_kept_and_its_change_is_not(staff, approved_case, tx):
    agent = staff(Role.agent)
    case, _account, _device = approved_case(CaseKind.locked_account, locked=True)
    agent.client.post(f"/cases/{case.number}/actions", data={"code": agent.code(), "next": "/"})
    agent.client.post(f"/cases/{case.number}/actions", data={"code": agent.code(1), "next": "/"})
    [event] = refused_events(tx)
    assert (event.action, event.subject_type, event.subject_id) == ("refused.already_open", "case", case.number)
    assert event.case_number is None
    with tx() as session:
        assert len(session.exec(select(Action)).all()) == 1


def test_sign_ins_refused_by_the_rate_limit_are_kept(app_config):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    codes = [client.post("/agent/sign-in", data={"email": "target@example.test", "password": "guess"}).status_code
             for _ in range(25)]
    assert codes.count(429) == 15
    with app.app_context(), db.transaction(app) as session:
        named = agents.as_recorded(session, "target@example.test")  # no agent has it: its fingerprint
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_id == named)
                              .order_by(AuditEvent.seq)).all()
    assert named.startswith("pv:")
    # attempts 1-10 reach the password check: three wrong ones, then the slow-down an agent's email
    # gets too (or, past its seconds, another wrong one); 11-20 are kept as the rate limit's; a flood
    # beyond that writes nothing more in this minute
    assert len(events) == 20
    assert [event.action for event in events[:3]] == ["agent.sign_in_failed"] * 3
    assert all(event.action == "agent.sign_in_failed" or event.reason.startswith("throttled for")
               for event in events[3:10])
    assert [(event.action, event.reason) for event in events[10:]] == [("agent.sign_in_refused", "rate limit")] * 10
    assert events[-1].after["limit"] == "10 per 1 minute"
    db.engine(app).dispose()
