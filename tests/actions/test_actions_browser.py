"""Acceptance in a real browser: unlock, replace-contact + reset, force-unbind with four-eyes.

The case is arranged with the ``make_case`` factory (filed and confirmed the way a
claimant does; the intake form itself, which needs real evidence files, is the intake
feature's story). Everything after that happens through the pages.
"""
from __future__ import annotations

import pyotp
import pytest
from sqlmodel import select

from support.models import Action, ActionStatus, Agent, Case, CaseKind, CaseStatus, Device, Role

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def agent_page(browser, live_server, make_agent, tx):
    """``agent_page(role) -> (page, totp)``: a signed-in agent in their own browser context."""
    contexts = []

    def open_as(role: Role):
        agent = make_agent(role)
        secret = pyotp.random_base32()
        with tx() as session:
            session.get(Agent, agent.id).totp_secret = secret
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server}/agent/sign-in")
        page.get_by_label("Email").fill(agent.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")
        return page, pyotp.TOTP(secret)

    yield open_as
    for context in contexts:
        context.close()


def claim_and_approve(page, live_server, case):
    page.goto(f"{live_server}/cases/{case.number}")
    page.get_by_role("button", name="Claim").click()
    page.locator("input[name=decision][value=approve]").check()
    page.locator("#public_reason").fill("The receipt and the box label match the device.")
    page.get_by_role("button", name="Record decision").click()
    assert page.locator("#case-status").inner_text().strip().lower() == "approved"
    page.locator("#request-action").click()


def step_up(page, verb: str, totp) -> None:
    """Fill the code into the approve or execute form and send it."""
    form = page.locator(f"form[action$='/{verb}']")
    form.locator("input[name=code]").fill(totp.now())
    form.get_by_role("button").click()


def the_action(tx, case) -> Action:
    with tx() as session:
        return session.exec(select(Action).where(Action.case_id == case.id)).one()


def test_locked_account_unlocked_then_the_claimant_signs_in(live_server, page, agent_page, make_account,
                                                             make_device, make_case):
    account = make_account(email="locked-owner@example.test", password="right-password")
    device = make_device(account=account)
    page.goto(f"{live_server}/account/sign-in")
    for _attempt in range(10):
        page.get_by_label("Email, phone or account ID").fill("locked-owner@example.test")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
    assert page.locator("#locked").is_visible()
    case, _token = make_case(kind=CaseKind.locked_account, imei1=device.imei1, hint_email=account.email,
                             language="it")

    agent, totp = agent_page(Role.agent)
    claim_and_approve(agent, live_server, case)
    step_up(agent, "execute", totp)
    assert "Executed" in agent.locator(".flash.success").inner_text()
    assert agent.locator(".action-executed").is_visible()

    page.goto(f"{live_server}/account/sign-in")
    page.get_by_label("Email, phone or account ID").fill("locked-owner@example.test")
    page.get_by_label("Password").fill("right-password")
    page.get_by_role("button", name="Sign in").click()
    assert "You are signed in" in page.locator("#signed-in").inner_text()


def test_lost_credentials_replace_contact_then_reset(live_server, page, agent_page, make_account, make_device,
                                                     make_case, outbox):
    account = make_account(email="lost-inbox@example.test", password="forgotten-password")
    device = make_device(account=account)
    case, _token = make_case(kind=CaseKind.lost_credentials, imei1=device.imei1, hint_account_id=str(account.id),
                             hint_email=None, contact_email="fresh@example.test")
    agent, agent_totp = agent_page(Role.agent)
    claim_and_approve(agent, live_server, case)
    supervisor, supervisor_totp = agent_page(Role.supervisor)
    supervisor.goto(f"{live_server}/approvals")
    supervisor.get_by_role("link", name=case.number).click()
    step_up(supervisor, "approve", supervisor_totp)
    assert "Approved" in supervisor.locator(".flash.success").inner_text()
    agent.reload()
    step_up(agent, "execute", agent_totp)
    assert "Executed" in agent.locator(".flash.success").inner_text()

    page.goto(f"{live_server}/account/reset")
    page.get_by_label("Email of your account").fill("fresh@example.test")
    page.get_by_role("button", name="Send the link").click()
    assert page.locator("#reset-sent").is_visible()
    body = [mail for mail in outbox() if mail[1] == "fresh@example.test"][-1][3]
    page.goto(live_server + "/account/reset/" + body.split("/account/reset/")[1].split()[0])
    page.get_by_label("New password", exact=True).fill("my-new-password")
    page.get_by_label("New password again").fill("my-new-password")
    page.get_by_role("button", name="Set the new password").click()
    assert page.locator("#reset-done").is_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email, phone or account ID").fill("fresh@example.test")
    page.get_by_label("Password").fill("my-new-password")
    page.get_by_role("button", name="Sign in").click()
    assert f"account {account.id}" in page.locator("#signed-in").inner_text()


@pytest.mark.parametrize("ending", ["objection", "run-due"])
def test_force_unbind_four_eyes_then_objection_or_cooling_off(ending, app, live_server, page, agent_page,
                                                              make_account, make_device, make_case, outbox, tx,
                                                              runner):
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0 if ending == "run-due" else 72
    owner = make_account(email="old-owner@example.test", phone="+390612345678")
    device = make_device(account=owner)
    case, _token = make_case(kind=CaseKind.device_unbind, imei1=device.imei1, hint_email=None)
    requester, requester_totp = agent_page(Role.supervisor)
    claim_and_approve(requester, live_server, case)
    assert requester.get_by_text("another supervisor must approve it").is_visible()
    action = the_action(tx, case)
    # the form is hidden from the requester; the server refuses the request all the same
    requester.request.post(f"{live_server}/actions/{action.id}/approve",
                           form={"code": requester_totp.now(), "next": f"/cases/{case.number}"}, max_redirects=0)
    requester.reload()
    assert "someone else must approve" in requester.locator(".flash.error").inner_text()
    assert the_action(tx, case).status == ActionStatus.pending_approval

    approver, approver_totp = agent_page(Role.supervisor)
    approver.goto(f"{live_server}/cases/{case.number}")
    step_up(approver, "approve", approver_totp)
    assert "Approved" in approver.locator(".flash.success").inner_text()
    notices = {kind: body for kind, to, _subject, body in outbox() if to in (owner.email, owner.phone)}
    assert set(notices) == {"email", "sms"}

    if ending == "objection":
        path = "/object/" + notices["email"].split("/object/")[1].split()[0]  # PUBLIC_URL's host is not ours
        page.goto(live_server + path)
        page.get_by_role("button", name="This was not me: cancel it").click()
        assert page.locator("#objection-done").is_visible()
        with tx() as session:
            stored = session.get(Case, case.id)
            assert stored.flagged and stored.status == CaseStatus.in_review
            assert session.get(Device, device.id).account_id == owner.id
        assert the_action(tx, case).status == ActionStatus.cancelled
    else:
        result = runner.invoke(args=["actions", "run-due"])
        assert "1 executed" in result.output
        approver.reload()
        assert approver.locator(".action-executed").is_visible()
        with tx() as session:
            assert session.get(Device, device.id).account_id is None
            assert session.get(Case, case.id).status == CaseStatus.closed
