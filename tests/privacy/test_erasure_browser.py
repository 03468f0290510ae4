"""The data-protection officer's erasure in a real browser (Debian's Chromium), at phone width:
sign in, land on the erasure page, find the claimant by email (posted: not in the address),
erase an open case with a reason, the override, the confirmation and a code; the claimant's
own browser then shows only the notice, with nowhere to type."""
from __future__ import annotations

from staff import sign_in_page

from support.models import CaseStatus, Role


def test_an_officer_erases_a_claimant_found_by_email(browser, live_server, make_case, staff):
    case, token = make_case(status=CaseStatus.in_review, claimant_name="Wilhelmina Fairweather",
                            contact_email="wilhelmina@example.test")
    dpo = staff(Role.dpo)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in_page(page, live_server, dpo.agent.email, lands_on="/privacy/erasure")
        page.get_by_label("Email, phone number or case number").fill("wilhelmina@example.test")
        with page.expect_navigation():
            page.get_by_role("button", name="Find").click()
        section = page.locator(f"#case-{case.number}")
        assert "Wilhelmina Fairweather" in section.inner_text()
        assert "wilhelmina@example.test" not in page.url  # the search was posted

        section.get_by_label("Request or ticket reference").fill("DPO-2026-31")
        section.get_by_label("Erase this open case anyway").check()
        section.get_by_label("I confirm: this cannot be undone.").check()
        section.get_by_label("Your 6-digit code").fill(dpo.fresh_code())
        with page.expect_navigation():
            section.get_by_role("button", name="Erase personal data").click()
        assert f"The personal data of {case.number} is erased." in page.locator(".flash.success").inner_text()
        assert "personal data of this case was erased" in page.locator(f"#case-{case.number}").inner_text()
        assert "Wilhelmina" not in page.content()

        claimant = context.new_page()
        claimant.goto(f"{live_server}/track/{case.number}?t={token}")
        assert "personal data of this case was erased" in claimant.locator("main").inner_text()
        assert claimant.locator("textarea").count() == 0 and claimant.locator("input[type=file]").count() == 0
    finally:
        context.close()
