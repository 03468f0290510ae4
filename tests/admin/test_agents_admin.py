"""/admin/agents: invite, deactivate, reactivate, role, password and TOTP resets.

Each change needs an admin, the CSRF token, a fresh sign-in and an unused one-time code,
and is audited in the same transaction; the attacker's tries change nothing."""
from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import select

from support.models import Agent, AuditEvent, Role
from support.passwords import is_usable
from staff import PASSWORD

NEW_PASSWORD = "a long new password"


def events(tx, action: str | None = None) -> list[AuditEvent]:
    with tx() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.exec(query))


def agent_row(tx, email: str) -> Agent | None:
    with tx() as session:
        return session.exec(select(Agent).where(Agent.email == email)).first()


def invite(admin, email="new.agent@example.test", name="Nina New", role="agent", code=None, **extra):
    return admin.client.post("/admin/agents", data={"name": name, "email": email, "role": role, "language": "en",
                                                    "code": admin.fresh_code() if code is None else code, **extra})


def is_signed_out(browser) -> bool:
    response = browser.get("/queue")
    return response.status_code == 302 and response.location.startswith("/agent/sign-in")


ADMIN_URLS = [("GET", "/admin/agents"), ("POST", "/admin/agents"), ("POST", "/admin/agents/{id}/deactivate"),
              ("POST", "/admin/agents/{id}/reactivate"), ("POST", "/admin/agents/{id}/role"),
              ("POST", "/admin/agents/{id}/reset-password"), ("POST", "/admin/agents/{id}/reset-totp")]


@pytest.mark.parametrize("role", [None, Role.agent, Role.supervisor, Role.auditor],
                         ids=lambda role: role.value if role else "anonymous")
def test_only_admins_reach_agent_administration(app, client, login, make_agent, tx, role):
    target = make_agent(Role.agent)
    if role:
        login(role)
    for method, url in ADMIN_URLS:
        response = client.open(url.format(id=target.id), method=method,
                               data={"role": "admin", "email": "x@example.test", "name": "X", "language": "en"})
        if role is None:
            assert response.status_code == 302 and "/agent/sign-in" in response.location, url
        else:
            assert response.status_code == 403, url
    assert agent_row(tx, "x@example.test") is None
    with tx() as session:
        assert session.get(Agent, target.id).role == Role.agent and session.get(Agent, target.id).active


def test_the_list_shows_each_agent_and_where_they_stand(admin, make_agent):
    boss = admin()
    helper = make_agent(Role.supervisor, name="Sam Supervisor")
    page = boss.client.get("/admin/agents")
    assert page.status_code == 200
    row = page.text.split(f'id="agent-{helper.id}"')[1].split("</tr>")[0]
    assert "Sam Supervisor" in row and helper.email in row and "Supervisor" in row
    assert "active" in row and "not set up" in row and "never" in row
    own = page.text.split(f'id="agent-{boss.agent.id}"')[1].split("</tr>")[0]
    assert "set up" in own and "never" not in own  # the admin signed in and has TOTP


def test_invite_then_the_link_sets_the_password_once(app, admin, tx, outbox, mailed_link, browser_of):
    boss = admin()
    response = invite(boss, role="supervisor")
    assert response.status_code == 303
    invited = agent_row(tx, "new.agent@example.test")
    assert invited.role == Role.supervisor and invited.active and not is_usable(invited.password_hash)
    [event] = events(tx, "agent.invited")
    assert (event.actor_type, event.actor_id, event.subject_id) == ("agent", str(boss.agent.id), str(invited.id))
    [sent] = [sent for sent in outbox() if sent.to == "new.agent@example.test"]
    assert sent.subject == "You are invited to Recovery Desk" and "72 hours" in sent.body
    link = mailed_link("new.agent@example.test")

    # no password signs in yet, not even the one no hash stands for
    for guess in ("", "!unset", "not a real password"):
        assert app.test_client().post("/agent/sign-in", data={"email": invited.email, "password": guess}
                                      ).status_code == 200

    invitee = app.test_client()
    form = invitee.get(link)
    assert form.status_code == 200 and "Nina New" in form.text
    short = invitee.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    differ = invitee.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.text
    assert not is_usable(agent_row(tx, invited.email).password_hash)

    done = invitee.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.location == "/agent/profile"  # a supervisor enrols TOTP next
    assert invitee.get("/agent/profile").status_code == 200  # signed in by the link
    assert [event.actor_id for event in events(tx, "agent.password_changed")] == [str(invited.id)]

    # the link is spent: a second use, even of the form, is refused and changes nothing
    again = app.test_client()
    assert again.get(link).status_code == 410
    replay = again.post(link, data={"password": "an attacker's password", "confirm": "an attacker's password"})
    assert replay.status_code == 410 and "not valid or was already used" in replay.text
    assert is_signed_out(again)
    browser_of(invited.email, NEW_PASSWORD)  # the password the invitee chose is the one that works


def test_forged_expired_and_outdated_links_are_refused(app, admin, tx, mailed_link):
    boss = admin()
    invite(boss)
    link = mailed_link("new.agent@example.test")
    invited = agent_row(tx, "new.agent@example.test")
    forged = URLSafeTimedSerializer("not the secret", salt="agent-set-password").dumps(
        {"agent": invited.id, "generation": invited.session_generation})
    other = URLSafeTimedSerializer("test-secret", salt="account-password-reset").dumps(
        {"agent": invited.id, "generation": invited.session_generation})  # signed, but for another purpose
    for bad in (f"/agent/password/{forged}", f"/agent/password/{other}", "/agent/password/garbage", link + "x"):
        response = app.test_client().post(bad, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 410, bad
    app.config["AGENT_LINK_HOURS"] = -1  # as if the 72 hours had passed
    expired = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert expired.status_code == 410 and "has expired" in expired.text
    app.config["AGENT_LINK_HOURS"] = 72
    assert boss.client.post(f"/admin/agents/{invited.id}/deactivate", data={"code": boss.fresh_code()}).status_code == 303
    outdated = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert outdated.status_code == 410  # a deactivated agent's link no longer works
    assert not is_usable(agent_row(tx, invited.email).password_hash)


def test_invite_refusals_keep_the_form_and_spend_no_code(admin, make_agent, tx, outbox):
    boss = admin()
    taken = make_agent(Role.agent)
    code = boss.fresh_code()
    clash = invite(boss, email=taken.email.upper(), name="Someone Else", code=code)
    assert clash.status_code == 422 and "An agent with this email already exists." in clash.text
    assert 'value="Someone Else"' in clash.text
    bad = invite(boss, email="not-an-email", name="Typed Name", code=code)
    assert bad.status_code == 422 and "Write a valid email address." in bad.text and 'value="Typed Name"' in bad.text
    missing = invite(boss, email="nocode@example.test", name="No Code", code="")
    assert missing.status_code == 403 and 'value="nocode@example.test"' in missing.text
    assert agent_row(tx, "nocode@example.test") is None
    assert invite(boss, email="fine@example.test", code=code).status_code == 303  # the code was not spent above
    replayed = invite(boss, email="replay@example.test", code=code)
    assert replayed.status_code == 403 and "already used" in replayed.text
    assert agent_row(tx, "replay@example.test") is None
    assert [sent.to for sent in outbox()] == ["fine@example.test"]
    refused = [event.action for event in events(tx) if event.action.startswith("refused.")]
    assert refused == ["refused.exists", "refused.bad_email", "refused.bad_code", "refused.bad_code"]


def test_step_up_needs_a_recent_sign_in(app, admin, make_agent, tx):
    boss = admin()
    target = make_agent(Role.agent)
    with boss.client.session_transaction() as web_session:
        web_session["signed_in_at"] = "2000-01-01T00:00:00+00:00"
    response = boss.client.post(f"/admin/agents/{target.id}/deactivate", data={"code": boss.fresh_code()})
    assert response.status_code == 303
    assert "Sign in again" in boss.client.get("/admin/agents").text
    with tx() as session:
        assert session.get(Agent, target.id).active


def test_deactivation_ends_every_session_at_once_and_reactivation_needs_a_new_sign_in(app, admin, make_agent, tx,
                                                                                       browser_of):
    boss = admin()
    target = make_agent(Role.agent)
    browser = browser_of(target.email)
    stolen = app.test_client()
    stolen.set_cookie("session", browser.get_cookie("session").value)
    assert stolen.get("/queue").status_code == 200
    assert boss.client.post(f"/admin/agents/{target.id}/deactivate", data={"code": boss.fresh_code()}).status_code == 303
    assert is_signed_out(browser) and is_signed_out(stolen)
    assert app.test_client().post("/agent/sign-in", data={"email": target.email, "password": PASSWORD}
                                  ).status_code == 200
    [event] = events(tx, "agent.deactivated")
    assert event.actor_id == str(boss.agent.id) and event.after["active"] is False
    assert "deactivated" in boss.client.get("/admin/agents").text.split(f'id="agent-{target.id}"')[1]

    assert boss.client.post(f"/admin/agents/{target.id}/reactivate", data={"code": boss.fresh_code()}).status_code == 303
    assert events(tx, "agent.reactivated")
    assert is_signed_out(stolen)  # the old cookie stays dead
    assert browser_of(target.email).get("/queue").status_code == 200


def test_an_admin_cannot_remove_themselves_or_the_last_admin(app, admin, make_agent, tx):
    boss = admin()
    code = boss.fresh_code()
    own = boss.client.post(f"/admin/agents/{boss.agent.id}/deactivate", data={"code": code}, follow_redirects=True)
    assert "You cannot deactivate yourself." in own.text
    demote = boss.client.post(f"/admin/agents/{boss.agent.id}/role", data={"role": "agent", "code": code},
                              follow_redirects=True)
    assert "This is the last active admin" in demote.text
    invited_admin = make_agent(Role.admin)
    with tx() as session:  # an admin who never set a password cannot stand in
        session.get(Agent, invited_admin.id).password_hash = "!unset"
    again = boss.client.post(f"/admin/agents/{boss.agent.id}/role", data={"role": "agent", "code": code},
                             follow_redirects=True)
    assert "This is the last active admin" in again.text
    with tx() as session:
        me = session.get(Agent, boss.agent.id)
        assert (me.role, me.active) == (Role.admin, True)
    # the refusals spent no code: the same one now makes a second admin
    helper = make_agent(Role.supervisor)
    assert boss.client.post(f"/admin/agents/{helper.id}/role", data={"role": "admin", "code": code}
                            ).status_code == 303
    [changed] = events(tx, "agent.role_changed")
    assert (changed.before, changed.after["role"]) == ({"role": "supervisor"}, "admin")
    assert boss.client.post(f"/admin/agents/{boss.agent.id}/role", data={"role": "auditor", "code": boss.fresh_code()}
                            ).status_code == 303  # now the admin may step down; their session ends
    assert is_signed_out(boss.client)


def test_reset_password_stops_the_old_one_at_once_and_mails_a_new_link(app, admin, make_agent, tx, browser_of,
                                                                       mailed_link, outbox):
    boss = admin()
    target = make_agent(Role.agent)
    browser = browser_of(target.email)
    assert boss.client.post(f"/admin/agents/{target.id}/reset-password", data={"code": boss.fresh_code()}
                            ).status_code == 303
    assert is_signed_out(browser)
    assert app.test_client().post("/agent/sign-in", data={"email": target.email, "password": PASSWORD}
                                  ).status_code == 200
    [sent] = [sent for sent in outbox() if sent.to == target.email]
    assert sent.subject == "Set a new password for Recovery Desk" and "old password no longer works" in sent.body
    assert events(tx, "agent.password_reset")[0].actor_id == str(boss.agent.id)
    link = mailed_link(target.email)
    assert app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    browser_of(target.email, NEW_PASSWORD)


def test_reset_totp_forgets_the_secret_and_the_password_and_mails_the_way_back(app, admin, make_agent, tx,
                                                                              browser_of, mailed_link):
    """A lost phone: whoever else knows the password must not be first to set up their phone as
    the agent's second factor, so the password goes too and the way back is the emailed link."""
    boss = admin()
    target = make_agent(Role.supervisor)
    with tx() as session:
        session.get(Agent, target.id).totp_secret = "JBSWY3DPEHPK3PXP"
    browser = browser_of(target.email)
    assert boss.client.post(f"/admin/agents/{target.id}/reset-totp", data={"code": boss.fresh_code()}).status_code == 303
    assert is_signed_out(browser)
    with tx() as session:
        assert session.get(Agent, target.id).totp_secret is None
    [reset] = events(tx, "agent.totp_reset")
    assert reset.actor_id == str(boss.agent.id) and reset.after["password_reset"] is True
    # the password alone no longer signs in (the attacker's way to enrol their own phone)
    assert app.test_client().post("/agent/sign-in", data={"email": target.email, "password": PASSWORD}
                                  ).status_code == 200
    invitee = app.test_client()
    done = invitee.post(mailed_link(target.email), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.location == "/agent/profile"  # then straight on to new codes
    assert "Scan this code" in invitee.get("/agent/profile").text


def test_csrf_is_required(app_config, admin, make_agent, tx):
    boss = admin()
    target = make_agent(Role.agent)
    boss.client.application.config["WTF_CSRF_ENABLED"] = True
    response = boss.client.post(f"/admin/agents/{target.id}/deactivate", data={"code": boss.fresh_code()})
    assert response.status_code == 400
    with tx() as session:
        assert session.get(Agent, target.id).active


def test_two_admins_removing_each_other_at_once_leave_one_admin(app, make_agent, tx):
    """The race: each of the last two admins deactivates the other at the same moment."""
    import threading

    from support import agents, audit, db

    first, second = make_agent(Role.admin), make_agent(Role.admin)
    start, outcomes = threading.Barrier(2), {}

    def deactivate(target_id: int, by_id: int) -> None:
        with app.app_context():
            start.wait(timeout=30)
            try:
                with db.transaction(app) as session:
                    target, by = session.get(Agent, target_id), session.get(Agent, by_id)
                    agents.set_active(session, target, False, actor=audit.Actor("agent", str(by_id), by.name), by=by)
                outcomes[target_id] = "deactivated"
            except agents.AgentError as refusal:
                outcomes[target_id] = refusal.code

    threads = [threading.Thread(target=deactivate, args=(first.id, second.id)),
               threading.Thread(target=deactivate, args=(second.id, first.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["deactivated", "last_admin"]
    with tx() as session:
        assert [agent.active for agent in (session.get(Agent, first.id), session.get(Agent, second.id))].count(True) == 1


def test_the_same_email_invited_twice_at_once_makes_one_agent_and_one_refusal(app, make_agent, tx, monkeypatch):
    """The race past the check: both invitations find no such agent, then both insert; the
    unique email lets one in and the other is refused as ``exists`` (never a 500)."""
    import threading

    from support import agents, audit, db

    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite runs writers one at a time: the second one's check already sees the first")
    boss = make_agent(Role.admin)
    checked, outcomes = threading.Barrier(2), []
    real_check = agents.check_invitation

    def check_then_wait(session, **typed):
        real_check(session, **typed)
        checked.wait(timeout=30)  # both have passed the check before either inserts

    monkeypatch.setattr(agents, "check_invitation", check_then_wait)

    def invite_once() -> None:
        with app.app_context():
            try:
                with db.transaction(app) as session:
                    agents.invite(session, email="twice@example.test", name="Twice", role=Role.agent,
                                  actor=audit.Actor("agent", str(boss.id), boss.name))
                outcomes.append("invited")
            except agents.AgentError as refusal:
                outcomes.append(refusal.code)

    threads = [threading.Thread(target=invite_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["exists", "invited"]
    assert len(events(tx, "agent.invited")) == 1 and agent_row(tx, "twice@example.test") is not None
