"""Acceptance in a real browser, every story from the claimant's first page to the outcome.

The claimant files the case on ``/recover`` with real evidence files (a PDF receipt, JPEG
and PNG photos), reads the number and private code on the confirmation page and opens the
confirmation link from the outbox email; agents then work the case on their pages with
TOTP step-up; the claimant proves the result on the account service (``/account/sign-in``,
``/account/reset``) and sees the closed case on ``/track``. Only the directory's account
and device are arranged with factories: they stand for the vendor's account service.
"""
from __future__ import annotations

import io
import time

import pyotp
import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfWriter
from sqlmodel import select

from support.models import Action, ActionStatus, Agent, Case, CaseStatus, Device, Role
from staff import sign_in_page

pytestmark = pytest.mark.browser
CLAIMANT_NAME = "Maria Rossi"


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
        sign_in_page(page, live_server, agent.email, lands_on="/queue")  # without `next`, the queue
        return page, pyotp.TOTP(secret)

    yield open_as
    for context in contexts:
        context.close()


# -- the claimant's side ----------------------------------------------------------------


def photo(color: tuple[int, int, int], image_format: str = "JPEG") -> bytes:
    """A real photo with some structure (a flat image looks like a blank to the checks)."""
    image = Image.new("RGB", (640, 480), color)
    for x in range(0, 640, 40):
        image.paste((20, 20, 20), (x, 0, x + 10, 480))
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def receipt() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: evidence kind -> a file as Playwright's ``set_input_files`` takes it
FILES = {
    "receipt": lambda: {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": receipt()},
    "box_photo": lambda: {"name": "box.jpg", "mimeType": "image/jpeg", "buffer": photo((200, 40, 40))},
    "imei_screen": lambda: {"name": "imei.png", "mimeType": "image/png", "buffer": photo((30, 90, 160), "PNG")},
    "id_document": lambda: {"name": "passport.jpg", "mimeType": "image/jpeg", "buffer": photo((40, 160, 60))},
}


def account_sign_in(page, login: str, password: str) -> None:
    """One try on the account service's sign-in form, waiting for its answer page."""
    page.get_by_label("Email, phone or account ID").fill(login)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def mailed_link(outbox, to: str, path: str) -> str:
    """The newest link under ``path`` emailed to ``to`` (PUBLIC_URL's host is not the test server's)."""
    body = [body for _kind, recipient, _subject, body in outbox() if recipient == to and path in body][-1]
    return path + body.split(path)[1].split()[0]


def file_case(page, live_server, outbox, *, hints: dict[str, str], imei1: str, evidence: list[str],
              contact_email: str, language: str = "en") -> tuple[str, str]:
    """Fill and send the open ``/recover`` form (kind already chosen), then confirm the
    contact from the emailed link; returns the case number and the private code shown once."""
    for label, value in hints.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("IMEI", exact=True).fill(imei1)
    page.get_by_label("Model").fill("Redmi Note 13")
    page.get_by_label("Purchase date").fill("2024-03-01")
    for kind in evidence:
        page.locator(f"#evidence-{kind}").set_input_files([FILES[kind]()])
    page.get_by_label("Your name").fill(CLAIMANT_NAME)
    page.get_by_label("A new email address we can reach you at").fill(contact_email)
    page.get_by_label("Language for our emails").select_option(language)
    page.get_by_label("I agree that Recovery Desk processes").check()
    page.get_by_role("button", name="Send my case").click()
    page.wait_for_url("**/recover/filed")
    number, code = page.locator("#case-number").inner_text(), page.locator("#case-token").inner_text()
    assert number.startswith("RD-") and code

    page.goto(live_server + mailed_link(outbox, contact_email, "/recover/confirm/"))
    expect(page.locator("h1")).to_have_text("Thank you, your email address is confirmed")
    expect(page.locator("main")).to_contain_text(f"Case {number} is in our queue")
    return number, code


def track(page, live_server, number: str, code: str) -> None:
    """Open the case on ``/track`` with its number and private code, as from another device."""
    page.goto(f"{live_server}/track")
    page.get_by_label("Case number").fill(number)
    page.get_by_label("Private code").fill(code)
    page.get_by_role("button", name="Show my case").click()
    page.wait_for_url("**/track/case")
    expect(page.locator("h1")).to_have_text(f"Case {number}")


# -- the agents' side -------------------------------------------------------------------


def claim_and_approve(page, live_server, number: str, totp) -> None:
    """Claim and approve the case, then request its action with the agent's code."""
    page.goto(f"{live_server}/cases/{number}")
    expect(page.locator("#case-status")).to_have_text("New", ignore_case=True)
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#assignee")).not_to_have_text("Unassigned")
    page.locator("input[name=decision][value=approve]").check()
    page.locator("#public_reason").fill("The receipt and the box label match the device.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#case-status")).to_have_text("Approved", ignore_case=True)
    page.locator("#request-code").fill(totp.now())
    page.locator("#request-action").click()
    expect(page.locator("#actions .action")).to_have_count(1)


def step_up(page, verb: str, totp, steps_ahead: int = 0) -> None:
    """Fill the code into the approve or execute form and send it (the next one when now's is spent)."""
    form = page.locator(f"form[action$='/{verb}']")
    form.locator("input[name=code]").fill(totp.at(time.time() + 30 * steps_ahead))
    form.get_by_role("button").click()


def the_case(tx, number: str) -> Case:
    with tx() as session:
        return session.exec(select(Case).where(Case.number == number)).one()


def the_action(tx, case) -> Action:
    with tx() as session:
        return session.exec(select(Action).where(Action.case_id == case.id)).one()


# -- the stories ------------------------------------------------------------------------


def test_locked_account_filed_unlocked_then_the_claimant_signs_in(live_server, page, agent_page, make_account,
                                                                  make_device, outbox):
    account = make_account(email="locked-owner@example.test", password="right-password")
    device = make_device(account=account)
    page.goto(f"{live_server}/account/sign-in")
    for _attempt in range(10):
        account_sign_in(page, "locked-owner@example.test", "wrong-password")
    expect(page.locator("#locked")).to_be_visible()
    page.locator("#locked").get_by_role("link", name="File a recovery case").click()
    page.wait_for_url("**/recover?kind=locked_account")
    expect(page.get_by_label("My account is locked after too many wrong passwords")).to_be_checked()
    number, code = file_case(page, live_server, outbox, hints={"Old email address": account.email},
                             imei1=device.imei1, evidence=["id_document"], contact_email="maria@example.test",
                             language="it")

    agent, totp = agent_page(Role.agent)
    claim_and_approve(agent, live_server, number, totp)
    step_up(agent, "execute", totp, steps_ahead=1)
    expect(agent.locator(".flash.success")).to_contain_text("Executed")
    expect(agent.locator(".action-executed")).to_be_visible()

    page.goto(f"{live_server}/account/sign-in")
    account_sign_in(page, "locked-owner@example.test", "right-password")
    expect(page.locator("#signed-in")).to_have_text(f"You are signed in to account {account.id}.")
    track(page, live_server, number, code)
    expect(page.locator("#status")).to_have_text("Closed.")
    news = page.locator("article.message", has_text=f"Buone notizie: l'account {account.id} è sbloccato.")
    expect(news).to_be_visible()  # in the language the claimant chose for our emails


def test_lost_credentials_filed_contact_replaced_then_reset(app, live_server, page, agent_page, make_account, make_device,
                                                            outbox):
    app.config["CONTACT_COOLING_OFF_HOURS"] = 0  # development and testing allow it: the notice, then the change
    account = make_account(email="lost-inbox@example.test", password="forgotten-password")
    device = make_device(account=account)
    page.goto(f"{live_server}/account/reset")  # the usual way first: the link goes to the lost inbox
    page.get_by_label("Email of your account").fill(account.email)
    page.get_by_role("button", name="Send the link").click()
    page.locator("#reset-sent ~ p").get_by_role("link", name="File a recovery case").click()
    page.wait_for_url("**/recover")
    page.get_by_label("I lost both the email and the phone number of my account").check()
    number, code = file_case(page, live_server, outbox, hints={"Account ID": str(account.id)}, imei1=device.imei1,
                             evidence=["receipt", "box_photo", "imei_screen"], contact_email="fresh@example.test")

    agent, agent_totp = agent_page(Role.agent)
    claim_and_approve(agent, live_server, number, agent_totp)
    supervisor, supervisor_totp = agent_page(Role.supervisor)
    supervisor.goto(f"{live_server}/approvals")
    supervisor.get_by_role("link", name=number).click()
    step_up(supervisor, "approve", supervisor_totp)
    expect(supervisor.locator(".flash.success")).to_contain_text("Approved")
    agent.reload()
    step_up(agent, "execute", agent_totp, steps_ahead=1)
    expect(agent.locator(".flash.success")).to_contain_text("Executed")

    page.goto(f"{live_server}/account/reset")
    page.get_by_label("Email of your account").fill("fresh@example.test")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#reset-sent")).to_be_visible()
    page.goto(live_server + mailed_link(outbox, "fresh@example.test", "/account/reset/"))
    page.get_by_label("New password", exact=True).fill("my-new-password")
    page.get_by_label("New password again").fill("my-new-password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#reset-done")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/account/sign-in")
    account_sign_in(page, "fresh@example.test", "my-new-password")
    expect(page.locator("#signed-in")).to_have_text(f"You are signed in to account {account.id}.")
    track(page, live_server, number, code)
    expect(page.locator("#status")).to_have_text("Closed.")
    expect(page.locator("article.message", has_text=f"Good news: the recovery email of account {account.id} "
                                                    "is now fresh@example.test.")).to_be_visible()


@pytest.mark.parametrize("ending", ["objection", "run-due"])
def test_force_unbind_four_eyes_then_objection_or_cooling_off(ending, app, live_server, page, agent_page,
                                                              make_account, make_device, outbox, tx, runner):
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0 if ending == "run-due" else 72
    owner = make_account(email="old-owner@example.test", phone="+390612345678")
    device = make_device(account=owner)
    page.goto(f"{live_server}/recover")
    page.get_by_label("My phone is bound to an account I cannot use").check()
    number, _code = file_case(page, live_server, outbox, hints={"Old phone number": "5678"}, imei1=device.imei1,
                              evidence=["receipt", "box_photo"], contact_email="new-owner@example.test")
    case = the_case(tx, number)
    requester, requester_totp = agent_page(Role.supervisor)
    claim_and_approve(requester, live_server, number, requester_totp)
    expect(requester.get_by_text("another supervisor must approve it")).to_be_visible()
    action = the_action(tx, case)
    # the form is hidden from the requester; the server refuses the request all the same
    requester.request.post(f"{live_server}/actions/{action.id}/approve",
                           form={"code": requester_totp.now(), "next": f"/cases/{number}"}, max_redirects=0)
    requester.reload()
    expect(requester.locator(".flash.error")).to_contain_text("someone else must approve")
    assert the_action(tx, case).status == ActionStatus.pending_approval

    approver, approver_totp = agent_page(Role.supervisor)
    approver.goto(f"{live_server}/cases/{number}")
    step_up(approver, "approve", approver_totp)
    expect(approver.locator(".flash.success")).to_contain_text("Approved")
    notices = {kind: body for kind, to, _subject, body in outbox() if to in (owner.email, owner.phone)}
    assert set(notices) == {"email", "sms"}

    if ending == "objection":
        page.goto(live_server + mailed_link(outbox, owner.email, "/object/"))
        page.get_by_role("button", name="This was not me: cancel it").click()
        expect(page.locator("#objection-done")).to_be_visible()
        with tx() as session:
            stored = session.get(Case, case.id)
            assert stored.flagged and stored.status == CaseStatus.in_review
            assert session.get(Device, device.id).account_id == owner.id
        assert the_action(tx, case).status == ActionStatus.cancelled
    else:
        result = runner.invoke(args=["actions", "run-due"])
        assert "1 executed" in result.output
        approver.reload()
        expect(approver.locator(".action-executed")).to_be_visible()
        with tx() as session:
            assert session.get(Device, device.id).account_id is None
            assert session.get(Case, case.id).status == CaseStatus.closed
