"""The claimant's side in a real Chromium on a 360-pixel phone: the script's total-size
warning, "one of" marks with and without JavaScript, an over-limit filing without script
that keeps the typed answers, times in the browser's time zone, no sideways scrolling."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from support import cases, db, imei

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def small_requests(app_config):
    app_config["MAX_REQUEST_MB"] = 1
    return app_config


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _blob(name: str, kilobytes: int) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"\0" * (kilobytes * 1024)}


def _context(browser, **options):
    context = browser.new_context(viewport=PHONE, **options)
    context.set_default_timeout(15_000)
    return context


def test_with_script_the_total_is_checked_before_sending_and_times_are_local(
        small_requests, app, live_server, browser, make_case):
    context = _context(browser, timezone_id="Europe/Rome")
    page = context.new_page()
    for language in ("ru", "it"):
        for path in ("/recover", "/track"):
            page.goto(f"{live_server}{path}?lang={language}")
            assert _fits(page), (language, path)

    page.goto(f"{live_server}/recover?lang=en")
    receipt_mark = page.locator("[data-evidence=receipt] .mark.for-locked_account")
    assert not receipt_mark.is_visible()
    page.get_by_label("My account is locked after too many wrong passwords").check()
    assert receipt_mark.inner_text() == "Required: one of Identity document or Purchase receipt"
    assert page.locator("[data-evidence=id_document] .mark.for-locked_account").is_visible()
    assert not page.locator("[data-evidence=box_photo] .mark").first.is_visible()
    page.get_by_label("Your name").fill("Maria Rossi")
    page.locator("#evidence-receipt").set_input_files([_blob("receipt.pdf", 600)])
    page.locator("#evidence-id_document").set_input_files([_blob("passport.pdf", 600)])
    warning = page.locator("#total-warning")
    expect(warning).to_be_visible()
    assert "larger than 1 MB together" in warning.inner_text()  # each alone is fine
    requests = []
    page.on("request", lambda request: requests.append(request) if request.method == "POST" else None)
    page.get_by_role("button", name="Send my case").click()
    assert requests == [] and page.url.endswith("/recover?lang=en")  # blocked before any upload
    assert page.evaluate("document.activeElement.id") == "total-warning" and _fits(page)
    assert page.get_by_label("Your name").input_value() == "Maria Rossi"
    page.locator("#evidence-id_document").set_input_files([])
    expect(warning).to_be_hidden()

    case, code = make_case()
    with app.app_context(), db.transaction(app) as session:
        stored = cases.get_by_number(session, case.number)
        stored.sla_due_at = datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)  # 11:00 in Rome (CET)
        session.add(stored)
    page.goto(f"{live_server}/track?lang=it")
    page.get_by_label("Numero della pratica").fill(case.number)
    page.get_by_label("Codice privato").fill(code.lower())
    page.get_by_role("button").filter(has_text="pratica").last.click()
    page.wait_for_url("**/track/case")
    due = page.locator(".status time.local-time").first
    expect(due).to_have_attribute("data-localised", "true")  # the deferred script has run
    assert "11:00" in due.inner_text() and "UTC" not in due.inner_text() and "gen" in due.inner_text()
    assert "10:00" in due.get_attribute("title") and due.get_attribute("title").endswith("UTC")
    assert _fits(page)
    context.close()


def test_without_script_marks_show_and_an_oversized_filing_keeps_the_answers(
        small_requests, app, live_server, browser):
    context = _context(browser, java_script_enabled=False, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{live_server}/recover?lang=it")
    page.locator("input[name=kind][value=locked_account]").check()
    mark = page.locator("[data-evidence=id_document] .mark.for-locked_account")
    assert mark.is_visible() and mark.inner_text().startswith("Obbligatorio: uno a scelta tra")
    assert not page.locator("[data-evidence=box_photo] .mark").first.is_visible()
    page.locator("input[name=kind][value=device_unbind]").check()
    assert not mark.is_visible() and page.locator("[data-evidence=box_photo] .mark.for-device_unbind").is_visible()

    valid = imei.generate()
    page.locator("#hint_email").fill("old@example.test")
    page.locator("#imei1").fill(valid)
    page.locator("#model").fill("Телефон «12»")
    page.locator("#claimant_name").fill("Maria Rossi")
    page.locator("#contact_email").fill("maria@example.test")
    page.locator("#consent").check()
    page.locator("#evidence-receipt").set_input_files([_blob("receipt.pdf", 1500)])
    page.locator("button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "Le tue risposte sono state conservate" in page.locator("#problems").inner_text()
    assert page.locator("#imei1").input_value() == valid and page.locator("#model").input_value() == "Телефон «12»"
    assert page.locator("#contact_email").input_value() == "maria@example.test" and page.locator("#consent").is_checked()
    assert page.locator("input[name=kind][value=device_unbind]").is_checked()
    assert page.locator("[data-evidence=receipt] .mark.for-device_unbind").is_visible()
    assert _fits(page)
    for language in ("ru", "it"):
        page.goto(f"{live_server}/track?lang={language}")
        assert _fits(page)
    context.close()
