"""The intake form lets a claimant type the masked email their provider shows them."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("hint", ["a•••@mail.ru", "a***@mail.ru", "A***@MAIL.RU"])
def test_a_masked_old_email_is_accepted_by_the_browser(live_server, page, hint):
    page.goto(f"{live_server}/recover")
    field = page.get_by_label("Old email address")
    field.fill(hint)
    assert field.evaluate("input => input.checkValidity()"), "the browser would refuse to send the form"
    assert field.get_attribute("inputmode") == "email"  # the phone still shows its email keyboard
