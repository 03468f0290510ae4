"""The agent-administration story in a real browser (Debian's Chromium): an admin invites an
agent, the invitee sets a password from the emailed link, the admin changes the role, then
deactivates the agent, whose open session is refused at its very next page load."""
from __future__ import annotations

import pyotp
from sqlmodel import select

from support.models import Agent, Role
from staff import sign_in_page

INVITEE_PASSWORD = "my own long password"


def manage(page, agent_id: int):
    """The agent's "Manage" panel under their row, opened (a <details>: no script needed)."""
    row = page.locator(f"#manage-{agent_id}")
    if not row.locator("details").evaluate("element => element.open"):
        row.locator("summary").click()
    return row


def test_admin_invites_changes_the_role_and_deactivates_an_open_session(browser, live_server, make_agent, tx,
                                                                        mailed_link):
    boss = make_agent(Role.admin, name="Ada Admin")
    secret = pyotp.random_base32()
    with tx() as session:
        session.get(Agent, boss.id).totp_secret = secret

    def code() -> str:
        """Now's code, as if the 30 s of the one used before had passed (a code is good once)."""
        with tx() as session:
            session.get(Agent, boss.id).totp_last_step = None
        return pyotp.TOTP(secret).now()

    admin_context, invitee_context = browser.new_context(), browser.new_context()
    try:
        admin, invitee = admin_context.new_page(), invitee_context.new_page()
        for page in (admin, invitee):
            page.set_default_timeout(15_000)
        sign_in_page(admin, live_server, boss.email)
        admin.get_by_role("link", name="Agents").click()
        admin.wait_for_url(f"{live_server}/admin/agents")

        # invite: a wrong code keeps what was typed
        admin.get_by_label("Name", exact=True).fill("Ivo Invited")
        admin.locator("#invite-email").fill("ivo@example.test")
        admin.locator("#invite-role").select_option("agent")
        admin.locator("#invite-code").fill("000000")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Invite", exact=True).click()
        assert admin.locator("#invite-email").input_value() == "ivo@example.test"
        assert "That code is wrong or was already used." in admin.locator("#invite").inner_text()
        admin.locator("#invite-code").fill(code())
        with admin.expect_navigation():
            admin.get_by_role("button", name="Invite", exact=True).click()
        assert "Ivo Invited is invited" in admin.locator(".flash.success").inner_text()
        with tx() as session:
            ivo = session.exec(select(Agent).where(Agent.email == "ivo@example.test")).one()
        assert "waiting for a password" in admin.locator(f"#agent-{ivo.id} .access").inner_text()

        # the invitee opens the emailed link and chooses a password
        invitee.goto(live_server + mailed_link("ivo@example.test"))
        assert "Welcome, Ivo Invited" in invitee.locator("main").inner_text()
        invitee.get_by_label("New password").fill(INVITEE_PASSWORD)
        invitee.get_by_label("The same password again").fill(INVITEE_PASSWORD)
        invitee.get_by_role("button", name="Set password").click()
        invitee.wait_for_url(f"{live_server}/agent/profile")  # an agent enrols TOTP next
        assert invitee.get_by_text("Your password is set.").is_visible()

        # the admin makes the invitee a supervisor: that ends the invitee's session too
        admin.reload()
        row = manage(admin, ivo.id)
        row.locator(f"#role-{ivo.id}").select_option("supervisor")
        row.locator(f"#role-code-{ivo.id}").fill(code())
        with admin.expect_navigation():
            row.get_by_role("button", name="Change role").click()
        assert admin.locator(f"#agent-{ivo.id} .role").inner_text() == "Supervisor"
        invitee.goto(f"{live_server}/queue")
        assert "/agent/sign-in" in invitee.url

        # signed in again in the second browser, the new supervisor works ...
        sign_in_page(invitee, live_server, "ivo@example.test", INVITEE_PASSWORD)
        invitee.goto(f"{live_server}/approvals")
        assert invitee.url == f"{live_server}/approvals"

        # ... until the admin deactivates them: the very next page load is refused
        row = manage(admin, ivo.id)
        row.locator(f"#deactivate-code-{ivo.id}").fill(code())
        with admin.expect_navigation():
            row.get_by_role("button", name="Deactivate").click()
        assert "every session of theirs has ended" in admin.locator(".flash.success").inner_text()
        assert admin.locator(f"#agent-{ivo.id} .access").inner_text() == "deactivated"
        invitee.reload()
        assert "/agent/sign-in" in invitee.url
        invitee.get_by_label("Email").fill("ivo@example.test")
        invitee.get_by_label("Password").fill(INVITEE_PASSWORD)
        with invitee.expect_navigation():
            invitee.get_by_role("button", name="Sign in").click()
        assert invitee.get_by_text("Wrong email or password.").is_visible()

        # the admin cannot deactivate themselves (no code is spent on it)
        row = manage(admin, boss.id)
        row.locator(f"#deactivate-code-{boss.id}").fill(code())
        with admin.expect_navigation():
            row.get_by_role("button", name="Deactivate").click()
        assert admin.get_by_text("You cannot deactivate yourself.").is_visible()
    finally:
        admin_context.close()
        invitee_context.close()
