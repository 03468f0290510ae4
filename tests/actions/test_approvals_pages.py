"""The approvals pages: step-up with TOTP, four-eyes in the browser forms, queue, objection, run-due."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from support.models import (Account, AccountStatus, Action, ActionStatus, Agent, AuditEvent, CaseKind, Device, Role,
                            utcnow)


def flashes(response) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text))


def only_action(tx) -> Action:
    with tx() as session:
        return session.exec(select(Action)).one()


def test_force_unbind_four_eyes_and_step_up_through_the_forms(staff, approved_case, tx, outbox):
    requester, approver = staff(Role.supervisor), staff(Role.supervisor)
    case, _account, device = approved_case(CaseKind.device_unbind)
    page = f"/cases/{case.number}"
    response = requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": page},
                                     follow_redirects=False)
    assert response.status_code == 302 and response.location == page
    action = only_action(tx)
    assert action.status == ActionStatus.pending_approval

    refused = requester.client.post(f"/actions/{action.id}/approve", data={"code": requester.code(1), "next": page},
                                    follow_redirects=True)
    assert "someone else must approve" in flashes(refused)
    wrong = approver.client.post(f"/actions/{action.id}/approve", data={"code": "000000", "next": "/approvals"},
                                 follow_redirects=True)
    assert "wrong or was already used" in flashes(wrong)
    with approver.client.session_transaction() as web_session:
        fresh = web_session["signed_in_at"]
        web_session["signed_in_at"] = (utcnow() - timedelta(minutes=11)).isoformat()
    stale = approver.client.post(f"/actions/{action.id}/approve", data={"code": approver.code(), "next": "/approvals"},
                                 follow_redirects=True)
    assert "Sign in again" in flashes(stale)
    assert only_action(tx).status == ActionStatus.pending_approval
    with approver.client.session_transaction() as web_session:
        web_session["signed_in_at"] = fresh
    code = approver.code()
    approved = approver.client.post(f"/actions/{action.id}/approve", data={"code": code, "next": "/approvals"},
                                    follow_redirects=True)
    assert "Approved" in flashes(approved)
    assert only_action(tx).status == ActionStatus.scheduled
    assert len(outbox()) == 2  # the old owner's email and SMS

    # the same code again (say, a replayed form) is refused even for a different step-up
    replay = approver.client.post(f"/actions/{action.id}/execute", data={"code": code, "next": "/approvals"},
                                  follow_redirects=True)
    assert "already used" in flashes(replay)
    early = approver.client.post(f"/actions/{action.id}/execute", data={"code": approver.code(1), "next": "/approvals"},
                                 follow_redirects=True)
    assert "cooling-off ends" in flashes(early)
    with tx() as session:
        assert session.get(Device, device.id).account_id is not None


def test_unlock_executed_from_the_case_panel_once(staff, approved_case, tx):
    agent = staff(Role.agent)
    case, account, _device = approved_case(CaseKind.locked_account, locked=True)
    agent.client.post(f"/cases/{case.number}/actions", data={"code": agent.code(), "next": "/"})
    action = only_action(tx)
    done = agent.client.post(f"/actions/{action.id}/execute", data={"code": agent.code(1), "next": "/"},
                             follow_redirects=True)
    assert "Executed" in flashes(done)
    agent.next_window()
    again = agent.client.post(f"/actions/{action.id}/execute", data={"code": agent.code(), "next": "/"},
                              follow_redirects=True)
    assert "already executed" in flashes(again)
    with tx() as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "action.executed")).all()) == 1


def test_a_supervisor_without_totp_cannot_approve(staff, approved_case, tx):
    requester, approver = staff(Role.agent), staff(Role.supervisor, totp=False)
    case, _account, _device = approved_case(CaseKind.lost_credentials)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    action = only_action(tx)
    response = approver.client.post(f"/actions/{action.id}/approve", data={"code": "123456", "next": "/"},
                                    follow_redirects=True)
    assert "Set up two-step codes" in flashes(response)
    assert only_action(tx).status == ActionStatus.pending_approval
    assert approver.client.post(f"/actions/{action.id}/approve", data={"code": "1"}).status_code == 403  # refused step-up, no page to go back to
    assert requester.client.post(f"/actions/{action.id}/approve", data={"code": "1"}).status_code == 403


def test_enrolling_totp_on_the_profile_page(staff, tx):
    agent = staff(Role.supervisor, totp=False)
    page = agent.client.get("/agent/profile")
    assert "data:image/svg+xml;base64," in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert agent.client.get("/agent/profile").text.count(secret) == 1  # the same secret until confirmed
    wrong = agent.client.post("/agent/profile", data={"code": "000000"}, follow_redirects=True)
    assert "does not match" in flashes(wrong)
    done = agent.client.post("/agent/profile", data={"code": pyotp.TOTP(secret).now()}, follow_redirects=True)
    assert "Two-step codes are set up" in done.text
    with tx() as session:
        stored = session.get(Agent, agent.agent.id)
        assert stored.totp_secret == secret and stored.totp_last_step is not None
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "agent.totp_enrolled")).one()


def test_a_stolen_session_cannot_move_the_second_factor_to_another_phone(staff, tx, app):
    """"Move to a new phone" asks for a code from the current phone (spent like a step-up) and
    a recent sign-in: a thief with the session cookie alone keeps failing; the owner succeeds."""
    owner = staff(Role.supervisor)
    old_secret = owner.secret
    page = owner.client.get("/agent/profile?replace=1")
    assert 'id="current_code"' in page.text and "Ask an admin" in page.text
    thiefs = pyotp.random_base32()
    with owner.client.session_transaction() as web_session:
        web_session["totp_pending"] = thiefs  # the thief's phone, scanned from the page
    for current in ("", "000000"):
        refused = owner.client.post("/agent/profile?replace=1", data={"current_code": current,
                                                                       "code": pyotp.TOTP(thiefs).now()},
                                    follow_redirects=True)
        assert "Both codes are needed" in flashes(refused)
    with tx() as session:
        assert session.get(Agent, owner.agent.id).totp_secret == old_secret
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "agent.totp_enrolled")).all()

    # an old session (signed in long ago) cannot even start; the owner, signed in just now, can
    with owner.client.session_transaction() as web_session:
        web_session["signed_in_at"] = (utcnow() - timedelta(hours=3)).isoformat()
    stale = owner.client.post("/agent/profile?replace=1", data={"current_code": pyotp.TOTP(old_secret).now(),
                                                                 "code": pyotp.TOTP(thiefs).now()})
    assert stale.status_code == 302 and "/agent/sign-in" in stale.location
    with owner.client.session_transaction() as web_session:
        web_session["signed_in_at"] = utcnow().isoformat()
        new_secret = web_session["totp_pending"]
    moved = owner.client.post("/agent/profile?replace=1", data={"current_code": pyotp.TOTP(old_secret).now(),
                                                                "code": pyotp.TOTP(new_secret).now()},
                              follow_redirects=True)
    assert "Two-step codes are set up" in moved.text
    with tx() as session:
        assert session.get(Agent, owner.agent.id).totp_secret == new_secret


def test_queue_and_objection_pages(staff, approved_case, tx, outbox, client):
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    case, _account, _device = approved_case(CaseKind.device_unbind)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    queue = approver.client.get("/approvals")
    assert case.number in queue.text and "Pending approval" in queue.text and "pending_approval" not in queue.text
    assert requester.client.get("/approvals").status_code == 403
    action = only_action(tx)
    approver.client.post(f"/actions/{action.id}/approve", data={"code": approver.code(), "next": "/"})
    link = next(body for kind, _to, _s, body in outbox() if kind == "email")
    path = "/object/" + link.split("/object/")[1].split()[0]
    assert client.get("/object/forged-token").status_code == 404
    landing = client.get(path)
    assert landing.status_code == 200 and 'id="object"' in landing.text
    assert only_action(tx).status == ActionStatus.scheduled  # opening the link alone changes nothing
    done = client.post(path)
    assert 'id="objection-done"' in done.text
    assert only_action(tx).status == ActionStatus.cancelled
    assert "already cancelled" in client.post(path).text


def test_run_due_command_executes_after_cooling_off(app, staff, approved_case, tx, runner):
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    case, _account, device = approved_case(CaseKind.device_unbind)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    approver.client.post(f"/actions/{only_action(tx).id}/approve", data={"code": approver.code(), "next": "/"})
    action = only_action(tx)
    assert action.requested_with_step_up_at and action.approved_with_step_up_at
    result = runner.invoke(args=["actions", "run-due"])
    assert result.exit_code == 0 and "1 executed, 1 due" in result.output
    assert "0 executed, 0 due" in runner.invoke(args=["actions", "run-due"]).output
    with tx() as session:
        assert session.get(Device, device.id).account_id is None


@pytest.mark.parametrize("method, url", [
    ("get", "/approvals"), ("get", "/agent/profile"), ("get", "/audit"), ("get", "/audit/export.jsonl"),
    ("post", "/cases/RD-2026-000001/actions"), ("post", "/actions/1/approve"), ("post", "/actions/1/execute"),
    ("post", "/actions/1/cancel"),
])
def test_staff_pages_need_a_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/agent/sign-in" in response.location


def test_demo_agents_get_fixed_totp_secrets(make_agent, tx):
    from support import demo

    make_agent(Role.supervisor, email="supervisor@demo.test")
    with tx() as session:
        demo.enrol_demo_totp(session)
    with tx() as session:
        supervisor = session.exec(select(Agent).where(Agent.email == "supervisor@demo.test")).one()
        assert supervisor.totp_secret == demo.DEMO_TOTP_SECRETS["supervisor@demo.test"]
        assert pyotp.TOTP(supervisor.totp_secret).now().isdigit()
    assert any(supervisor.totp_secret in line for line in demo.demo_totp_lines())


# -- step-up at every privileged step ----------------------------------------------------


def test_requesting_an_action_needs_a_code(staff, approved_case, tx):
    agent = staff(Role.agent)
    case, _account, _device = approved_case(CaseKind.locked_account, locked=True)
    for form in ({"next": "/"}, {"code": "", "next": "/"}, {"code": "000000", "next": "/"}):
        refused = agent.client.post(f"/cases/{case.number}/actions", data=form, follow_redirects=True)
        assert "wrong or was already used" in flashes(refused)
    with tx() as session:
        assert session.exec(select(Action)).all() == []
    agent.client.post(f"/cases/{case.number}/actions", data={"code": agent.code(), "next": "/"})
    action = only_action(tx)
    assert action.status == ActionStatus.scheduled and action.requested_with_step_up_at is not None


def test_a_code_spent_on_a_refused_action_cannot_be_used_again(staff, approved_case, tx):
    agent = staff(Role.agent)
    case, _account, _device = approved_case(CaseKind.locked_account, locked=False)  # nothing to unlock
    code = agent.code()
    refused = agent.client.post(f"/cases/{case.number}/actions", data={"code": code, "next": "/"},
                                follow_redirects=True)
    assert "not locked" in flashes(refused)
    with tx() as session:
        assert session.get(Agent, agent.agent.id).totp_last_step is not None  # spent despite the rollback
    locked_case, _account, _device = approved_case(CaseKind.locked_account, locked=True)
    replay = agent.client.post(f"/cases/{locked_case.number}/actions", data={"code": code, "next": "/"},
                               follow_redirects=True)
    assert "already used" in flashes(replay)
    with tx() as session:
        assert session.exec(select(Action)).all() == []


def test_run_due_skips_an_action_requested_without_step_up(app, staff, approved_case, tx, runner):
    agent = staff(Role.agent)
    case, account, _device = approved_case(CaseKind.locked_account, locked=True)
    agent.client.post(f"/cases/{case.number}/actions", data={"code": agent.code(), "next": "/"})
    with tx() as session:  # as an action scheduled with a session cookie alone was (before step-up was asked)
        action = session.exec(select(Action)).one()
        action.requested_with_step_up_at = None
        session.add(action)
    result = runner.invoke(args=["actions", "run-due"])
    assert result.exit_code == 0 and "step_up_missing" in result.output and "0 executed, 1 due" in result.output
    with tx() as session:
        assert session.get(Account, account.id).status == AccountStatus.locked
        assert session.exec(select(Action)).one().status == ActionStatus.scheduled
    done = agent.client.post(f"/actions/{only_action(tx).id}/execute", data={"code": agent.code(1), "next": "/"},
                             follow_redirects=True)
    assert "Executed" in flashes(done)
    assert only_action(tx).executed_with_step_up_at is not None
