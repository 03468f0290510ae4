"""The acceptance story in a real Chromium: take next, ask for a photo, the claimant adds it, decide."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from support.models import CaseKind, CaseStatus, EvidenceKind, Role
from staff import sign_in_page

pytestmark = pytest.mark.browser


def test_agent_asks_for_a_photo_the_claimant_adds_it_and_the_agent_decides(
        app, live_server, page, browser, make_agent, make_case, attach, photo, load):
    case, token = make_case(kind=CaseKind.device_unbind, contact_email="claimant@example.test")
    attach(case.number, EvidenceKind.receipt, photo((90, 30, 30)))
    agent = make_agent(Role.agent, email="story-agent@example.test", name="Story Agent")

    sign_in_page(page, live_server, agent.email)
    page.goto(f"{live_server}/queue")
    page.get_by_role("button", name="Take next").click()
    assert page.locator("h1").inner_text().startswith(case.number)
    evidence_check = page.locator('#checks tr[data-code="required_evidence"]')
    assert "missing: Photo of the box label" in evidence_check.inner_text()
    page.get_by_label("Photo of the box label").fill("the box photo must show the IMEI label")
    page.get_by_role("button", name="Ask the claimant").click()
    assert page.locator("#case-status").inner_text() == "Waiting on claimant"

    claimant = browser.new_context()
    try:
        tracking = claimant.new_page()
        tracking.goto(f"{live_server}/track/{case.number}?t={token}")
        assert "the box photo must show the IMEI label" in tracking.content()
        tracking.get_by_label("What is it?").select_option("box_photo")
        tracking.set_input_files("#evidence-files", files=[{"name": "box.jpg", "mimeType": "image/jpeg",
                                                            "buffer": photo((20, 120, 40))}])
        tracking.get_by_role("button", name="Add files").click()
        assert "added to your case" in tracking.content()
    finally:
        claimant.close()

    page.goto(f"{live_server}/queue?assignee=me")
    row = page.locator(f'tr[data-number="{case.number}"]')
    assert "Claimant replied" in row.inner_text() and "In review" in row.inner_text()
    row.get_by_role("link", name=case.number).click()
    expect(page.locator("#claimant-replied")).to_be_visible()  # waits for the case page to load
    assert page.locator('#checks tr[data-code="required_evidence"]').get_attribute("class") == "check-pass"
    page.get_by_label("Approve: Force-unbind device").check()
    page.get_by_label("Reason the claimant reads").fill("Your receipt and box label match the device.")
    page.get_by_role("button", name="Record decision").click()
    assert page.locator("#case-status").inner_text() == "Approved"
    assert load(case.number).status == CaseStatus.approved
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")]
    assert any(message["To"] == agent.email for message in mails)  # the assignee heard the claimant answered
