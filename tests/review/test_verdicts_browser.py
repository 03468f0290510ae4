"""The verdict and checklist story in a real Chromium: the agent judges a file and asks for
it again with a second document; the claimant, on a 360 px phone without JavaScript and in
Italian, answers one slot (still waiting), then the other (back in review)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.models import CaseKind, CaseStatus, EvidenceKind, Role
from staff import sign_in_page

pytestmark = pytest.mark.browser


def test_agent_judges_a_file_asks_again_and_the_claimant_answers_slot_by_slot(
        app, live_server, page, browser, make_agent, make_case, attach, photo, load):
    case, token = make_case(kind=CaseKind.device_unbind, language="it", contact_email="cliente@example.test")
    receipt = attach(case.number, EvidenceKind.receipt, photo((90, 30, 30)))
    attach(case.number, EvidenceKind.box_photo, photo((30, 90, 30)))
    agent = make_agent(Role.agent, email="verdict-agent@example.test", name="Verdict Agent")

    sign_in_page(page, live_server, agent.email)
    page.goto(f"{live_server}/cases/{case.number}")
    page.get_by_role("button", name="Claim").click()
    page.goto(f"{live_server}/cases/{case.number}/evidence/{receipt.id}")
    page.get_by_label("Needs a new upload").check()
    page.get_by_label("Why a new upload is needed").select_option("unreadable")
    page.get_by_label("Note (the claimant reads it").fill("The total and the date are blurred.")
    page.get_by_role("button", name="Save the verdict").click()
    assert "Needs a new upload: The file is unreadable" in page.locator("#verdict-now").inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name=f"← {case.number}").click()
    assert page.locator('#evidence [data-verdict="needs_upload"]').count() == 1
    expect(page.locator("#uploads-outstanding")).to_be_visible()  # approving now would be refused
    assert str(receipt.id) in page.locator("#auto-requested").inner_text()
    page.get_by_label("Proof of owning the SIM").fill("a phone bill with your name")
    page.get_by_role("button", name="Ask the claimant").click()
    assert load(case.number).status == CaseStatus.waiting_on_claimant
    assert page.locator('#checklist [data-status="open"]').count() == 2

    phone = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        tracking = phone.new_page()
        tracking.goto(f"{live_server}/track/{case.number}?t={token}")
        tracking.goto(f"{live_server}/track/case?lang=it")
        slots = tracking.locator("#checklist .slot")
        assert slots.count() == 2
        assert "Il file è illeggibile" in slots.nth(0).inner_text()
        assert "The total and the date are blurred." in slots.nth(0).inner_text()
        assert "a phone bill with your name" in slots.nth(1).inner_text()
        assert "0 di 2" in tracking.locator("#checklist-progress").inner_text()
        assert tracking.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll on a phone

        slots.nth(0).locator("input[type=file]").set_input_files(
            files=[{"name": "scontrino.jpg", "mimeType": "image/jpeg", "buffer": photo((200, 200, 200))}])
        tracking.locator("#send-checklist").click()
        assert load(case.number).status == CaseStatus.waiting_on_claimant  # the second item is still missing
        assert tracking.locator("#checklist .slot").nth(0).get_attribute("data-status") == "answered"
        assert "1 di 2" in tracking.locator("#checklist-progress").inner_text()

        tracking.locator("#checklist .slot").nth(1).locator("input[type=file]").set_input_files(
            files=[{"name": "bolletta.jpg", "mimeType": "image/jpeg", "buffer": photo((10, 200, 10))}])
        tracking.locator("#send-checklist").click()
        assert load(case.number).status == CaseStatus.in_review
        assert "2 di 2" in tracking.locator("#checklist-progress").inner_text()
        assert tracking.locator("#send-checklist").count() == 0
    finally:
        phone.close()

    page.goto(f"{live_server}/cases/{case.number}")
    assert page.locator('#checklist [data-status="answered"]').count() == 2
    assert page.locator('#checklist [data-status="open"]').count() == 0
    assert page.locator("#uploads-outstanding").count() == 0
    expect(page.locator("#claimant-replied")).to_be_visible()
    assert "replaced by #" in page.locator("#evidence").inner_text()
