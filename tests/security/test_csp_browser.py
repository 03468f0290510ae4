"""The Content-Security-Policy blocks nothing the desk itself uses, in a real Chromium."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from support.models import Role

pytestmark = pytest.mark.browser

WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
    event => window.__violations.push(event.violatedDirective + " " + event.blockedURI));"""


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_pages_run_under_the_policy(live_server, page, make_agent):
    page.add_init_script(WATCH)
    page.goto(f"{live_server}/recover")
    page.locator("#evidence-box_photo").set_input_files(
        [{"name": "box.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    preview = page.locator("[data-evidence=box_photo] .previews img")
    preview.wait_for()
    assert preview.evaluate("image => image.decode().then(() => image.naturalWidth)") == 64  # blob: allowed
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""  # the stylesheet applies
    assert page.evaluate("window.__violations") == []

    agent = make_agent(Role.supervisor)
    page.goto(f"{live_server}/agent/sign-in?next=/agent/profile")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    qr = page.locator("img.qr")
    assert qr.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0  # data: allowed
    assert page.evaluate("window.__violations") == []
