import pytest

pytestmark = pytest.mark.browser


def test_account_sign_in_page_in_a_real_browser(live_server, page, make_account):
    make_account(email="browser@example.test", password="right-password")
    page.goto(f"{live_server}/account/sign-in")
    page.get_by_label("Email, phone or account ID").fill("browser@example.test")
    page.get_by_label("Password").fill("right-password")
    page.get_by_role("button", name="Sign in").click()
    assert "You are signed in" in page.locator("#signed-in").inner_text()
