"""One story in a real Chromium on a 360-pixel phone screen: a mistake, kept files, filed, tracked."""
from __future__ import annotations

import pytest
from intake_samples import jpeg, pdf

from sqlmodel import select

from support import db, imei
from support.evidence.pictures import draw_pdf_pictures
from support.models import Evidence

pytestmark = pytest.mark.browser


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_filing_a_case_with_files_on_a_phone(app, live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}/recover")
    assert _fits(page)
    page.get_by_label("My phone is bound to an account I cannot use").check()
    assert page.locator("[data-evidence=receipt] .mark.for-device_unbind").is_visible()
    page.get_by_label("Old email address").fill("old@example.test")
    page.get_by_label("IMEI", exact=True).fill("3520990017614823")  # the IMEISV, a common mistake
    page.get_by_label("Model").fill("Phone 12")
    page.locator("#evidence-receipt").set_input_files(
        [{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
    page.locator("#evidence-box_photo").set_input_files(
        [{"name": "box.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    assert page.locator("[data-evidence=box_photo] .previews img").count() == 1
    page.get_by_label("Your name").fill("Maria Rossi")
    page.get_by_label("A new email address we can reach you at").fill("maria@example.test")
    page.get_by_label("I agree that Recovery Desk processes").check()
    page.get_by_role("button", name="Send my case").click()

    assert "IMEISV" in page.locator("#imei1 ~ .error").inner_text()
    assert page.locator("#staged li").count() == 2  # both files kept: no need to choose them again
    assert page.get_by_label("Model").input_value() == "Phone 12"
    assert _fits(page)
    valid = imei.generate()
    page.get_by_label("IMEI", exact=True).fill(valid)
    page.get_by_label("I agree that Recovery Desk processes").check()
    page.get_by_role("button", name="Send my case").click()

    number = page.locator("#case-number").inner_text()
    assert number.startswith("RD-") and page.locator("#case-token").inner_text()
    assert _fits(page)
    page.get_by_role("link", name="Follow your case").last.click()
    assert number in page.locator("h1").inner_text()
    assert "confirm your email address" in page.locator("#status").inner_text()
    thumbnails = page.locator("ul.thumbnails img")
    assert thumbnails.count() == 1  # the PDF's page is drawn by the worker, after the upload
    assert page.locator("ul.thumbnails .no-preview").inner_text() == "No preview yet"
    with app.app_context(), db.transaction(app) as session:
        [pdf_id] = session.exec(select(Evidence.id).where(Evidence.media_type == "application/pdf"))
    with app.app_context():  # what the worker does
        assert draw_pdf_pictures(pdf_id) is True
    page.reload()
    assert thumbnails.count() == 2 and page.locator("ul.thumbnails .no-preview").count() == 0
    for n in range(2):  # the thumbnails load lazily, once they are in view
        thumbnails.nth(n).scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('ul.thumbnails img')]"
                           ".every(image => image.complete && image.naturalWidth > 0)")
    assert _fits(page)
