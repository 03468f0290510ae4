"""Evidence images in the report: downscaled to a small file, yet a receipt fills most of a page.

The rich case's files are stored without print copies, as files stored before print
copies existed: the report draft-decodes them. Files filed through the pipeline are
printed from their print copies."""
from __future__ import annotations

import io
import subprocess

from PIL import Image, ImageChops, ImageDraw
from sqlmodel import select
from weasyprint import HTML

from support import audit, cases, db, evidence
from support.models import AuditEvent, Evidence, EvidenceKind
from support.evidence import prints as images
from support.evidence.pictures import draw_pdf_pictures
from support.reports import content, pdf
from support.storage import Storage, for_app

from report_reading import RECEIPT_RED, needs_poppler, pdf_text

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
def _render(app, session, case, store: Storage) -> bytes:
    data = content.gather(session, case, language="en", generated_by=audit.SYSTEM, config=app.config)
    return pdf.render_pdf(data, config=app.config, storage=store)


def test_receipt_is_embedded_small_but_printed_large(app, rich_case, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, rich_case.number)
        report = _render(app, session, case, for_app(app))
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
    store = for_app(app)
    broken = b"\xff\xd8\xff\xe0 not really a JPEG"
    sha256 = store.store("viewable", broken)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.box_photo, sha256=sha256, viewable_sha256=sha256,
                             media_type="image/jpeg", size=len(broken), original_name="broken.jpg"))
        session.flush()
        report = _render(app, session, case, store)

    text = pdf_text(report)
    assert "broken.jpg" in text and "No image to show for this file." in text


def pdf_receipt() -> bytes:
    """A one-page A5 PDF receipt, as shops e-mail them: text only, a red frame at the page's edge."""
    html = ("<style>@page { size: A5; margin: 0 } body { margin: 0 }"
            f" div {{ height: 190mm; border: 10mm solid rgb{RECEIPT_RED}; padding: 8mm; font: 11pt sans-serif }}</style>"
            "<div><h1>ELECTRO SHOP MILANO</h1><p>REDMI NOTE 13 8/256</p><p>IMEI 861234567890128</p>"
            "<p>TOTAL 299.00 EUR</p></div>")
    return HTML(string=html).write_pdf()


@needs_poppler
def test_uploaded_evidence_is_printed_from_its_print_copy(app, make_case, tmp_path):
    """Files filed through the pipeline are embedded as their print copies are stored, byte for
    byte (nothing decoded while rendering), and a PDF receipt is printed from its first page."""
    case, _token = make_case()
    photo = Image.new("RGB", (4000, 3000), (40, 120, 60))
    ImageDraw.Draw(photo).rectangle((500, 500, 3500, 2500), fill=(240, 240, 240))
    photo_bytes = io.BytesIO()
    photo.save(photo_bytes, "JPEG", quality=90)
    with app.test_request_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        box = evidence.attach(session, case=case, upload=evidence.Upload("box.jpg", photo_bytes.getvalue(),
                                                                         EvidenceKind.box_photo),
                              uploaded_by="claimant", config=app.config)
        receipt = evidence.attach(session, case=case, upload=evidence.Upload("receipt.pdf", pdf_receipt(),
                                                                             EvidenceKind.receipt),
                                  uploaded_by="claimant", config=app.config)
        assert receipt.print_sha256 is None  # drawn by the worker, after the upload
    with app.app_context():
        assert draw_pdf_pictures(receipt.id) is True
    with app.test_request_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        receipt = session.get(type(receipt), receipt.id)
        store = for_app(app)
        report = _render(app, session, case, store)
        printed_box = store.open("print", box.print_sha256)

    assert Image.open(io.BytesIO(printed_box)).size == (images.BOX, images.BOX * 3 // 4)
    assert printed_box in report, "the print copy is embedded as it is stored"
    source = tmp_path / "report.pdf"
    source.write_bytes(report)
    listing = subprocess.run(["pdfimages", "-list", str(source)], capture_output=True, text=True, check=True).stdout
    heights = [int(row.split()[4]) for row in listing.splitlines()[2:]]
    assert images.DOCUMENT_BOX in heights, "the PDF receipt's page, drawn 2000 px tall"

    page = next(number for number in range(1, 10) if "receipt.pdf" in pdf_text(report, first=number, last=number))
    png = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-png", str(source)],
                         capture_output=True, check=True).stdout
    _width, height = red_box(png)
    assert height >= 200 / 25.4 * DPI * 0.95, "printed about 20 cm tall"
    assert receipt.print_sha256 and receipt.viewable_sha256 is None


def test_evidence_stored_before_print_copies_gets_them_from_the_command(app, runner, rich_case):
    result = runner.invoke(args=["reports", "print-copies"])
    assert result.exit_code == 0 and "Made 2 print copies; 0 item(s) had no readable original." in result.output
    store = for_app(app)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, rich_case.number)
        items = session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()
        assert [Image.open(io.BytesIO(store.open("print", item.print_sha256))).size for item in items] == [
            (1500, images.DOCUMENT_BOX), (900, 600)], "the receipt sized as a document, the small box photo kept"
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.print_copy_added")).all()
        assert {(event.case_number, event.subject_id) for event in events} == {
            (case.number, str(item.id)) for item in items}
        report = _render(app, session, case, store)
    assert all(store.open("print", item.print_sha256) in report for item in items)
    assert "Made 0 print copies" in runner.invoke(args=["reports", "print-copies"]).output, "nothing twice"


def test_print_copies_skip_evidence_whose_original_is_gone_or_unreadable(app, runner, make_case):
    case, _token = make_case()
    store = for_app(app)
    broken = store.store("originals", b"\xff\xd8\xff\xe0 not really a JPEG")
    with app.app_context(), db.transaction(app) as session:
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256="cd" * 32, media_type="image/jpeg",
                             size=10, original_name="gone.jpg"))
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.box_photo, sha256=broken, media_type="image/jpeg",
                             size=10, original_name="broken.jpg"))

    result = runner.invoke(args=["reports", "print-copies"])
    assert result.exit_code == 0 and "Made 0 print copies; 2 item(s) had no readable original." in result.output
    assert not list(store.entries("print")), "no file written"
    with app.app_context(), db.transaction(app) as session:
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.print_copy_added")).all()
        assert all(item.print_sha256 is None for item in session.exec(select(Evidence)))
