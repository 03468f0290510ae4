"""Sessions end on the server: a cookie saved before a sign-out, or before any change that
ends an agent's sessions, no longer opens the desk nor writes to it."""
from __future__ import annotations

import pyotp
import pytest
from sqlmodel import select

from support import db
from support.models import Agent, AuditEvent, Message, Role

PASSWORD = "correct horse battery"


@pytest.fixture
def sign_in(app):
    """``sign_in(agent) -> client``: a browser of its own, signed in as ``agent``."""

    def open_session(agent):
        browser = app.test_client()
        assert browser.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD}).status_code == 302
        return browser

    return open_session


def replay(app, browser):
    """A new browser carrying the cookie ``browser`` holds now (an attacker's copy)."""
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    return copy


def assert_open(app, browser, case):
    assert browser.get("/queue").status_code == 200


def assert_ended(app, browser, case):
    """The copied cookie is sent to sign in, and its note is not written."""
    queue = browser.get("/queue")
    assert queue.status_code == 302 and queue.location.startswith("/agent/sign-in")
    note = browser.post(f"/cases/{case.number}/messages",
                        data={"body": "written with a stolen cookie", "visibility": "internal", "version": case.version})
    assert note.status_code == 302 and note.location.startswith("/agent/sign-in")
    with db.transaction(app) as session:
        assert not session.exec(select(Message).where(Message.body == "written with a stolen cookie")).first()


def test_sign_out_ends_the_session_on_the_server(app, make_agent, make_case, sign_in):
    agent, (case, _token) = make_agent(Role.agent), make_case()
    browser = sign_in(agent)
    other_device = sign_in(agent)
    saved = replay(app, browser)
    assert_open(app, saved, case)
    browser.post("/agent/sign-out")
    assert_ended(app, saved, case)
    assert_ended(app, other_device, case)  # every session of the agent, not only this browser's
    assert_open(app, sign_in(agent), case)  # signing in again works


@pytest.mark.parametrize("command, audited", [
    (["agents", "set-password", "{email}", "--password-stdin"], "agent.password_changed"),
    (["agents", "set-role", "{email}", "auditor"], "agent.role_changed"),
    (["agents", "deactivate", "{email}"], "agent.deactivated"),
    (["agents", "sign-out", "{email}"], "agent.signed_out"),
    (["agents", "reset-totp", "{email}"], "agent.totp_reset"),
])
def test_each_revoking_change_ends_every_session(app, runner, make_agent, make_case, sign_in, command, audited):
    agent, (case, _token) = make_agent(Role.supervisor), make_case()
    saved = replay(app, sign_in(agent))
    assert_open(app, saved, case)
    result = runner.invoke(args=[part.format(email=agent.email) for part in command], input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert_ended(app, saved, case)
    with db.transaction(app) as session:
        event = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.actor_type) == (audited, "cli")


def test_deactivated_agents_come_back_only_through_a_new_sign_in(app, runner, make_agent, make_case, sign_in):
    agent, (case, _token) = make_agent(Role.agent), make_case()
    saved = replay(app, sign_in(agent))
    assert runner.invoke(args=["agents", "deactivate", agent.email]).exit_code == 0
    assert runner.invoke(args=["agents", "activate", agent.email]).exit_code == 0
    assert_ended(app, saved, case)
    assert_open(app, sign_in(agent), case)


def test_a_new_password_is_the_one_that_signs_in(app, runner, make_agent):
    agent = make_agent(Role.agent)
    result = runner.invoke(args=["agents", "set-password", agent.email, "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    runner.invoke(args=["agents", "set-password", agent.email, "--password-stdin"], input="a brand new password\n")
    browser = app.test_client()
    assert browser.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD}).status_code == 200
    assert browser.post("/agent/sign-in", data={"email": agent.email,
                                                "password": "a brand new password"}).status_code == 302


def test_a_new_role_applies_at_once(app, runner, make_agent, sign_in):
    agent = make_agent(Role.supervisor)
    browser = sign_in(agent)
    assert browser.get("/approvals").status_code == 200
    runner.invoke(args=["agents", "set-role", agent.email, "agent"])
    assert browser.get("/approvals").status_code == 302  # signed out, not a supervisor with an old cookie
    assert sign_in(agent).get("/approvals").status_code == 403
    with db.transaction(app) as session:
        assert session.get(Agent, agent.id).role == Role.agent


def test_unknown_agents_are_named(runner):
    result = runner.invoke(args=["agents", "sign-out", "nobody@example.test"])
    assert result.exit_code == 1 and "no agent nobody@example.test" in result.output


def test_enrolling_totp_ends_the_other_sessions_and_keeps_this_one(app, make_agent, make_case, sign_in):
    agent, (case, _token) = make_agent(Role.agent), make_case()
    elsewhere = sign_in(agent)
    browser = sign_in(agent)
    before = replay(app, browser)  # this browser's cookie as it was before the change
    browser.get("/agent/profile")
    with browser.session_transaction() as web_session:
        secret = web_session["totp_pending"]
    enrolled = browser.post("/agent/profile", data={"code": pyotp.TOTP(secret).now()})
    assert enrolled.status_code == 302
    with db.transaction(app) as session:
        assert session.get(Agent, agent.id).totp_secret == secret
    assert_open(app, browser, case)
    assert_ended(app, elsewhere, case)
    assert_ended(app, before, case)
