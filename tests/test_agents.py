"""Agent accounts: creation, sign-in, throttling, sessions, CSRF, error pages."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from support import create_app, db
from support.agents import as_recorded, unknown_email_hash
from support.models import Agent, AuditEvent, Role, SignInFailure, utcnow

PASSWORD = "correct horse battery"


def post_sign_in(client, email, password):
    return client.post("/agent/sign-in", data={"email": email, "password": password})


def actions(app):
    with db.transaction(app) as session:
        return [event.action for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]


def test_create_agent_reads_the_password_from_stdin(runner, app):
    result = runner.invoke(args=["create-agent", "Lead@Example.test", "--name", "Lea Lead", "--role", "supervisor",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with db.transaction(app) as session:
        agent = session.exec(select(Agent)).one()
        assert (agent.email, agent.role) == ("lead@example.test", Role.supervisor)
        assert agent.password_hash.startswith("$argon2")
    assert "agent.created" in actions(app)


def test_create_agent_prompts_and_refuses_short_passwords(runner):
    result = runner.invoke(args=["create-agent", "a@example.test", "--name", "A"], input="short\nshort\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output


def test_sign_in_clears_the_session_and_is_audited(client, make_agent, app):
    agent = make_agent(Role.agent)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = post_sign_in(client, agent.email, PASSWORD)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == agent.get_id()
    assert actions(app)[-1] == "agent.signed_in"
    client.post("/agent/sign-out")
    assert actions(app)[-1] == "agent.signed_out"


def test_wrong_password_and_unknown_email_get_one_message(client, make_agent, app):
    agent = make_agent()
    wrong = post_sign_in(client, agent.email, "not the password").text
    unknown = post_sign_in(client, "nobody@example.test", "not the password").text
    assert "Wrong email or password." in wrong and "Wrong email or password." in unknown
    assert actions(app).count("agent.sign_in_failed") == 2


def test_repeated_failures_slow_down_then_lock(client, make_agent, app):
    agent = make_agent()
    for _ in range(3):
        post_sign_in(client, agent.email, "wrong")
    # the third failure starts the slow-down: even the right password waits
    assert "Too many attempts" in post_sign_in(client, agent.email, PASSWORD).text
    with db.transaction(app) as session:
        stored = session.get(Agent, agent.id)
        stored.failed_sign_ins, stored.locked_until = 9, utcnow() - timedelta(seconds=1)
    post_sign_in(client, agent.email, "wrong")
    with db.transaction(app) as session:
        stored = session.get(Agent, agent.id)
        assert stored.locked_until - utcnow() > timedelta(minutes=14)
    assert "agent.sign_in_refused" in actions(app)


def _answer(page: str) -> str:
    """What the sign-in page told, the seconds to wait rounded away (two requests a moment apart)."""
    return re.sub(r"\d+ seconds", "N seconds", re.search(r"(Wrong email or password\.|Too many attempts[^<]*)", page)[1])


def _seconds(page: str) -> int:
    return int(re.search(r"Try again in (\d+) seconds", page)[1])


def test_an_email_of_no_agent_is_slowed_down_and_locked_exactly_as_an_agents(client, make_agent, app):
    """An attacker probing emails learns nothing from the countdown: the same answers, attempt
    after attempt, then the same lock, for an agent's email and for an email nobody has."""
    agent = make_agent()
    for _ in range(6):
        known, unknown = post_sign_in(client, agent.email, "wrong").text, post_sign_in(client, "x@example.test", "wrong").text
        assert _answer(known) == _answer(unknown)
        if "Too many attempts" in known:
            assert abs(_seconds(known) - _seconds(unknown)) <= 1
    assert "Too many attempts" in known
    # ten failures in a row: both locked for the lock period, written differently or not
    with db.transaction(app) as session:
        stored = session.get(Agent, agent.id)
        stored.failed_sign_ins, stored.locked_until = 9, utcnow() - timedelta(seconds=1)
        nobody = session.get(SignInFailure, unknown_email_hash(session, "x@example.test"))
        nobody.failed_attempts, nobody.updated_at = 9, utcnow() - timedelta(minutes=2)
    assert _answer(post_sign_in(client, agent.email, "wrong").text) == _answer(
        post_sign_in(client, " X@Example.test", "wrong").text) == "Wrong email or password."
    known, unknown = post_sign_in(client, agent.email, PASSWORD).text, post_sign_in(client, "x@example.test", "any").text
    assert _answer(known) == _answer(unknown) and abs(_seconds(known) - _seconds(unknown)) <= 1
    assert _seconds(unknown) > 14 * 60
    # only a keyed hash of the email is kept (hashing a list of emails finds nothing without
    # the key), and the trail names it by its keyed fingerprint
    with db.transaction(app) as session:
        plain = {hashlib.sha256(f"{door}:x@example.test".encode()).hexdigest() for door in ("agent-sign-in", "sign-in")}
        assert not plain & {row.login_hash for row in session.exec(select(SignInFailure))}
        trail = [event.after for event in session.exec(select(AuditEvent)) if event.actor_type == "anonymous"]
        assert trail and all("x@example.test" not in str(after) for after in trail)
        assert {after["email"] for after in trail} == {as_recorded(session, "x@example.test")}
        assert as_recorded(session, agent.email) == agent.email
        assert [row.login_hash for row in session.exec(select(SignInFailure))] == [unknown_email_hash(session, "x@example.test")]
        assert session.get(SignInFailure, unknown_email_hash(session, "x@example.test")).failed_attempts == 10


def test_csrf_is_enforced_on_forms(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    response = app.test_client().post("/account/sign-in", data={"login": "x", "password": "y"})
    assert response.status_code == 400
    db.engine(app).dispose()


def test_session_cookie_is_http_only_and_lax(client, make_agent):
    agent = make_agent()
    response = post_sign_in(client, agent.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("path, code", [("/no/such/page", 404), ("/agent/sign-out", 405)])
def test_error_pages_use_the_layout(client, path, code):
    response = client.get(path)
    assert response.status_code == code
    assert "Recovery Desk" in response.text and "<h1>" in response.text


def test_unexpected_error_shows_no_trace(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "Something went wrong" in response.text


def test_too_large_request_gets_a_clear_page(app_config):
    app = create_app({**app_config, "MAX_REQUEST_MB": 1})
    response = app.test_client().post("/account/sign-in", data={"login": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413 and "too large" in response.text
    db.engine(app).dispose()


def test_rate_limit_page(app_config):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    codes = [post_sign_in(client, "someone@example.test", "x").status_code for _ in range(12)]
    assert codes[-1] == 429
    assert "Too many attempts" in post_sign_in(client, "someone@example.test", "x").text
    db.engine(app).dispose()
