"""The evidence viewer in a real Chromium, at a desk's width and a phone's: a tall receipt fits,
the wheel zooms around the pointer, dragging pans and stops at the picture's edges (the left
and top ones included), rotate refits, the keys work, → opens the next file, whose value read
from the box label is drawn as a box on the picture and lights up with its row."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from support import db, imei
from support.evidence.analysis import Reading
from support.evidence.analysis.found import Found
from support.evidence.analysis.run import record
from support.models import CaseStatus, EvidenceKind, ExtractedKind, ExtractedSource, Role
from staff import sign_in_page

pytestmark = pytest.mark.browser

GEOMETRY = """() => {
  const stage = document.querySelector('.viewer-stage'), image = document.querySelector('#evidence-image');
  const s = stage.getBoundingClientRect(), i = image.getBoundingClientRect();
  return {stage: {left: s.left + stage.clientLeft, top: s.top + stage.clientTop,
                  right: s.left + stage.clientLeft + stage.clientWidth, bottom: s.top + stage.clientTop + stage.clientHeight},
          image: {left: i.left, top: i.top, right: i.right, bottom: i.bottom, width: i.width, height: i.height},
          angle: stage.dataset.angle, scale: parseFloat(stage.dataset.scale)};
}"""


def picture(size, color, stripes=(20, 20, 20)) -> bytes:
    image = Image.new("RGB", size, color)
    for y in range(0, size[1], 60):
        image.paste(stripes, (0, y, size[0], y + 8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["left"] >= outer["left"] - slack and inner["top"] >= outer["top"] - slack
            and inner["right"] <= outer["right"] + slack and inner["bottom"] <= outer["bottom"] + slack)


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 360, "height": 740}],
                         ids=["desk", "phone"])
def test_the_viewer_fits_zooms_pans_rotates_and_shows_the_value_boxes(app, live_server, browser, make_agent, make_case,
                                                                      attach, viewport):
    claimed = imei.generate()
    case, _ = make_case(status=CaseStatus.in_review, imei1=claimed)
    receipt = attach(case.number, EvidenceKind.receipt, picture((600, 2400), (250, 250, 245)))
    label = attach(case.number, EvidenceKind.box_photo, picture((800, 600), (200, 200, 190)))
    with app.test_request_context(), db.transaction(app) as session:
        record(session, label.id, Reading([Found(ExtractedKind.imei, claimed, claimed, ExtractedSource.barcode,
                                                 (200, 240, 600, 300), None, 0.9)], is_screenshot=False))
    agent = make_agent(Role.agent)
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in_page(page, live_server, agent.email, lands_on="/queue")  # without `next`, the queue
        page.goto(f"{live_server}/cases/{case.number}/evidence/{receipt.id}")
        page.wait_for_selector("[data-viewer][data-ready='1']")

        fitted = page.evaluate(GEOMETRY)  # the whole tall receipt is visible
        assert inside(fitted["image"], fitted["stage"]) and fitted["image"]["height"] > fitted["image"]["width"] * 3.9
        assert fitted["stage"]["bottom"] <= viewport["height"] * 1.5  # the stage itself is not a page-long strip
        assert page.locator("#viewer-help").is_visible() and "0 fits" in page.locator("#viewer-help").inner_text()

        page.locator(".viewer-stage").focus()
        for _ in range(15):  # + until the picture is wider than the stage (then no edge limits the zoom)
            geometry = page.evaluate(GEOMETRY)
            if geometry["image"]["width"] > geometry["stage"]["right"] - geometry["stage"]["left"]:
                break
            page.keyboard.press("+")
        geometry = page.evaluate(GEOMETRY)
        assert geometry["scale"] > fitted["scale"] * 1.5 and geometry["image"]["height"] > fitted["image"]["height"]

        # the wheel zooms around the pointer: the picture's point under it stays under it
        point = (geometry["stage"]["left"] + 0.3 * (geometry["stage"]["right"] - geometry["stage"]["left"]),
                 geometry["stage"]["top"] + 0.4 * (geometry["stage"]["bottom"] - geometry["stage"]["top"]))
        fraction = ((point[0] - geometry["image"]["left"]) / geometry["image"]["width"],
                    (point[1] - geometry["image"]["top"]) / geometry["image"]["height"])
        page.mouse.move(*point)
        page.mouse.wheel(0, -200)
        page.wait_for_function(f"parseFloat(document.querySelector('.viewer-stage').dataset.scale) > {geometry['scale'] + 0.001}")
        zoomed = page.evaluate(GEOMETRY)
        assert zoomed["image"]["width"] > geometry["image"]["width"]
        assert abs(zoomed["image"]["left"] + fraction[0] * zoomed["image"]["width"] - point[0]) < 1.5
        assert abs(zoomed["image"]["top"] + fraction[1] * zoomed["image"]["height"] - point[1]) < 1.5

        # drag far right and down: the left and top edges come into reach, and no further
        centre = ((zoomed["stage"]["left"] + zoomed["stage"]["right"]) / 2, (zoomed["stage"]["top"] + zoomed["stage"]["bottom"]) / 2)
        for _ in range(3):
            page.mouse.move(*centre)
            page.mouse.down()
            page.mouse.move(centre[0] + 3000, centre[1] + 3000, steps=4)
            page.mouse.up()
        corner = page.evaluate(GEOMETRY)
        assert abs(corner["image"]["left"] - corner["stage"]["left"]) < 1 and abs(corner["image"]["top"] - corner["stage"]["top"]) < 1
        for _ in range(6):  # and the other way: the right and bottom edges, never past them
            page.mouse.move(*centre)
            page.mouse.down()
            page.mouse.move(centre[0] - 3000, centre[1] - 3000, steps=4)
            page.mouse.up()
        far = page.evaluate(GEOMETRY)
        assert abs(far["image"]["right"] - far["stage"]["right"]) < 1 and abs(far["image"]["bottom"] - far["stage"]["bottom"]) < 1

        page.locator(".viewer-stage").focus()
        page.keyboard.press("r")  # rotate a quarter turn: fitted again, now lying on its side
        rotated = page.evaluate(GEOMETRY)
        assert rotated["angle"] == "90" and inside(rotated["image"], rotated["stage"])
        assert rotated["image"]["width"] > rotated["image"]["height"] * 3.9
        page.keyboard.press("-")
        smaller = page.evaluate(GEOMETRY)
        assert smaller["scale"] < rotated["scale"] and inside(smaller["image"], smaller["stage"])
        page.get_by_role("button", name="Fit").click()
        assert page.evaluate(GEOMETRY)["scale"] == pytest.approx(rotated["scale"], rel=1e-3)
        page.keyboard.press("0")
        page.keyboard.press("r")
        page.keyboard.press("r")
        page.keyboard.press("r")
        assert page.evaluate(GEOMETRY)["angle"] == "0"

        page.keyboard.press("ArrowRight")  # the next file of the case: the box label
        page.wait_for_url(f"{live_server}/cases/{case.number}/evidence/{label.id}")
        page.wait_for_selector("[data-viewer][data-ready='1']")
        box = page.locator("[data-box-for]")
        assert box.count() == 1 and box.is_visible()
        box_rect, image_rect = box.bounding_box(), page.locator("#evidence-image").bounding_box()
        # drawn where the value was read: x 200-600 of 800, y 240-300 of 600
        assert box_rect["x"] - image_rect["x"] == pytest.approx(image_rect["width"] * 0.25, abs=2)
        assert box_rect["width"] == pytest.approx(image_rect["width"] * 0.5, abs=2)
        assert box_rect["y"] - image_rect["y"] == pytest.approx(image_rect["height"] * 0.4, abs=2)
        row = page.locator(f"[data-value-id]")
        assert "matches the claim" in row.inner_text() and claimed in row.inner_text()
        row.hover()
        assert "highlight" in box.get_attribute("class")
        page.keyboard.press("+")
        page.keyboard.press("r")  # the box follows the zoom and the turn
        turned_box, turned_image = box.bounding_box(), page.locator("#evidence-image").bounding_box()
        assert turned_box["height"] > turned_box["width"]  # a wide box lies upright after a quarter turn
        assert turned_image["x"] - 1 <= turned_box["x"] and turned_box["x"] + turned_box["width"] <= turned_image["x"] + turned_image["width"] + 1
        page.keyboard.press("ArrowLeft")
        page.wait_for_url(f"{live_server}/cases/{case.number}/evidence/{receipt.id}")
        assert page.locator("#evidence-previous").count() == 0 and page.locator("#evidence-next").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing wider than the screen
    finally:
        context.close()
