"""Evidence images in the report: downscaled to a small file, yet a receipt fills most of a page."""
from __future__ import annotations

import io
import subprocess

from PIL import Image, ImageChops

from support import audit, cases, db
from support.models import Evidence, EvidenceKind
from support.reports import images, pdf
from support.storage import FileStorage

from report_reading import needs_poppler, pdf_text

DPI = 100


def red_box(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of the receipt's red frame on a page image."""
    page = Image.open(io.BytesIO(png)).convert("RGB")
    red, green, blue = (channel.point(test) for channel, test in zip(
        page.split(), (lambda v: 255 if v > 170 else 0, lambda v: 255 if v < 90 else 0, lambda v: 255 if v < 90 else 0)))
    mask = ImageChops.multiply(ImageChops.multiply(red, green), blue)  # red enough and neither green nor blue
    left, top, right, bottom = mask.getbbox()
    return right - left, bottom - top


@needs_poppler
def test_receipt_is_embedded_small_but_printed_large(app, rich_case, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, rich_case.number)
        report = pdf.render_case_report(session, case, generated_by=audit.SYSTEM, config=app.config,
                                        storage=FileStorage(app.config["UPLOAD_DIR"]))
    source = tmp_path / "report.pdf"
    source.write_bytes(report)
    page = next(number for number in range(1, 10) if "receipt.jpg" in pdf_text(report, first=number, last=number))
    png = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-png", str(source)],
                         capture_output=True, check=True).stdout
    (tmp_path / "receipt-page.png").write_bytes(png)

    width, height = red_box(png)
    assert height >= 200 / 25.4 * DPI * 0.95, "printed about 20 cm tall"
    assert abs(width / height - 2400 / 3200) < 0.02, "proportions kept"
    listing = subprocess.run(["pdfimages", "-list", str(source)], capture_output=True, text=True, check=True).stdout
    sizes = sorted((int(row.split()[3]), int(row.split()[4])) for row in listing.splitlines()[2:])
    assert (images.DOCUMENT_BOX * 3 // 4, images.DOCUMENT_BOX) in sizes, "the receipt, downscaled from 2400x3200"
    assert (900, 600) in sizes, "a smaller picture is never enlarged"
    assert len(report) < 1_000_000


@needs_poppler
def test_a_file_that_is_no_image_after_all_says_so(app, make_case):
    case, _token = make_case()
    store = FileStorage(app.config["UPLOAD_DIR"])
    broken = b"\xff\xd8\xff\xe0 not really a JPEG"
    sha256 = store.store("viewable", broken)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.box_photo, sha256=sha256, viewable_sha256=sha256,
                             media_type="image/jpeg", size=len(broken), original_name="broken.jpg"))
        session.flush()
        report = pdf.render_case_report(session, case, generated_by=audit.SYSTEM, config=app.config, storage=store)

    text = pdf_text(report)
    assert "broken.jpg" in text and "No image to show for this file." in text
