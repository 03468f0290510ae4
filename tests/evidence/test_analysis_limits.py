"""Hostile files against the readers' limits: a decoder past its time, a decompression bomb, a
PDF of thousands of pages or with a huge page, a receipt or a label naming many IMEIs."""
from __future__ import annotations

import io
import shutil
import struct
import time
import zlib

import pytest
from barcode import Code128
from barcode.writer import ImageWriter
from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlmodel import select

from support import db, imei
from support.cases import get_by_number
from support.demo_cases import box_label_image
from support.evidence.analysis import MAX_VALUES_PER_KIND, Picture, ReadRefused, barcodes, receipt_text
from support.evidence.analysis.run import analyse_evidence
from support.models import AnalysisStatus, AuditEvent, CaseKind, EvidenceKind, ExtractedKind, ExtractedValue

needs_tesseract = pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract-ocr is not installed")


def result(app, number: str, code: str) -> dict:
    with app.app_context(), db.transaction(app) as session:
        return next(check for check in get_by_number(session, number).checks if check["code"] == code)


def imeis_stored(app, evidence_id: int) -> list[str]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(ExtractedValue.value).where(ExtractedValue.evidence_id == evidence_id,
                                                                    ExtractedValue.kind == ExtractedKind.imei)))


def analysed_reason(app, evidence_id: int) -> str | None:
    with app.app_context(), db.transaction(app) as session:
        return session.exec(select(AuditEvent.reason).where(AuditEvent.action == "evidence.analysed",
                                                            AuditEvent.subject_id == str(evidence_id))).one()


def _photo(picture: Image.Image, size=(1600, 1200)) -> bytes:
    table = Image.new("RGB", size, (120, 115, 110))
    table.paste(picture.convert("RGB"), ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    out = io.BytesIO()
    table.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_decoder_past_its_time_limit_is_killed_the_file_fails_and_the_check_warns(app, make_case, upload,
                                                                                    monkeypatch):
    case, _ = make_case(kind=CaseKind.device_unbind)
    label = box_label_image(model="Phone 12", imei1=case.imei1, imei2=None, serial=None)
    item = upload(case.number, EvidenceKind.box_photo, _photo(Image.open(io.BytesIO(label))))
    monkeypatch.setattr(barcodes, "DECODE_SECONDS", 0.02)  # far below what decoding takes: the real process is killed
    started = time.monotonic()
    with app.app_context():
        assert analyse_evidence(item) == AnalysisStatus.failed
    assert time.monotonic() - started < 20
    assert "time limit" in analysed_reason(app, item)
    assert imeis_stored(app, item) == []
    check = result(app, case.number, "label_imei_match")
    assert check["result"] == "warn"  # never a pass, though the label carries the claimed IMEI
    monkeypatch.undo()
    with app.app_context():  # with its normal limit the same file is read: the limit was what failed it
        assert analyse_evidence(item) == AnalysisStatus.done
    assert result(app, case.number, "label_imei_match")["result"] == "pass"


def test_a_picture_that_keeps_the_decoder_busy_is_stopped_at_its_cpu_limit(monkeypatch):
    noise = Image.effect_noise((4000, 3000), 90).convert("RGB")  # no code anywhere: every stage runs
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=90)
    monkeypatch.setattr(barcodes, "DECODE_CPU_SECONDS", 1)  # the kernel's limit, whatever the machine's load
    with pytest.raises(barcodes.DecoderFailed, match="of CPU"):
        barcodes.decode(out.getvalue(), 50_000_000, barcodes.DECODE_SECONDS)


def _png_bomb(width: int, height: int) -> bytes:
    """A small PNG whose every row is there: decoding it really needs width x height bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    squeeze, row = zlib.compressobj(9), b"\x00" * (1 + (width + 7) // 8)
    pixels = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_by_its_header_or_stopped_by_the_decoders_memory_cap():
    bomb = _png_bomb(48000, 48000)  # 2.3 gigapixels from a few hundred kilobytes
    assert len(bomb) < 2_000_000
    with pytest.raises(ReadRefused, match="too_many_pixels"):
        Picture(bomb, 50_000_000)  # the worker's pixel limit, from the header, before a pixel is decoded
    with pytest.raises(ReadRefused, match="too_many_pixels"):
        barcodes.decode(bomb, 50_000_000, 30)  # the decoder process checks it again itself
    started = time.monotonic()
    with pytest.raises(ReadRefused, match="too_many_pixels"):  # a limit set far too high: the memory cap stops it
        barcodes.decode(bomb, 10 ** 10, 60)
    assert time.monotonic() - started < 60


def _code128(value: str) -> Image.Image:
    return Code128(value, writer=ImageWriter()).render({"module_height": 8, "module_width": 0.33, "quiet_zone": 3,
                                                        "write_text": False, "dpi": 300})


def test_a_label_showing_many_imeis_with_the_claimed_one_among_them_warns(app, make_case, upload):
    case, _ = make_case(kind=CaseKind.device_unbind)
    values = [case.imei1] + [imei.generate() for _ in range(5)]
    codes = [_code128(value) for value in values]
    sheet = Image.new("RGB", (max(code.width for code in codes) + 40, sum(code.height + 30 for code in codes) + 30),
                      "white")
    for number, code in enumerate(codes):
        sheet.paste(code, (20, 20 + number * (code.height + 30)))
    item = upload(case.number, EvidenceKind.box_photo, _photo(sheet, size=(sheet.width + 300, sheet.height + 300)))
    with app.app_context():
        assert analyse_evidence(item) == AnalysisStatus.done
    assert set(imeis_stored(app, item)) == set(values)
    check = result(app, case.number, "label_imei_match")
    assert (check["result"], check["detail"]) == ("warn", f"box_photo #{item} shows 6 IMEIs, more than one device has")


def _receipt_pdf(lines: list[str], *, pages: int = 1, page_size_mm: tuple[int, int] = (110, 220)) -> bytes:
    from weasyprint import HTML

    rows = "".join(f"<p>{line}</p>" for line in lines)
    html = (f"<html><style>@page {{ size: {page_size_mm[0]}mm {page_size_mm[1]}mm; margin: 5mm }} "
            f"body {{ font: 8pt 'DejaVu Sans Mono' }} p {{ margin: 0 }}</style><body>{rows}</body></html>")
    document = HTML(string=html).write_pdf()
    if pages == 1:
        return document
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(document)))
    for _ in range(pages - 1):
        writer.add_blank_page(300, 600)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_receipt_naming_fifty_imeis_stores_a_few_and_never_passes(app, make_case, upload):
    case, _ = make_case(kind=CaseKind.device_unbind)
    listed = [imei.generate() for _ in range(49)]
    listed.insert(23, case.imei1)
    pdf = _receipt_pdf(["ELECTRO SHOP", "Date 01.03.2024"] + [f"IMEI {value}" for value in listed] + ["TOTAL 499.00"])
    item = upload(case.number, EvidenceKind.receipt, pdf, "receipt.pdf")
    with app.app_context():
        assert analyse_evidence(item) == AnalysisStatus.done
    stored = imeis_stored(app, item)
    assert stored == listed[:MAX_VALUES_PER_KIND]  # in reading order, capped
    check = result(app, case.number, "receipt_imei")
    assert (check["result"], check["detail"]) == ("warn", f"receipt #{item} names 20 IMEIs, more than one device has")


def test_a_receipt_naming_the_claimed_imei_and_one_other_still_passes(app, make_case, upload):
    case, _ = make_case(kind=CaseKind.device_unbind)
    pdf = _receipt_pdf(["Phones for the family", f"IMEI {case.imei1}", f"IMEI {imei.generate()}", "Date 01.03.2024"])
    item = upload(case.number, EvidenceKind.receipt, pdf, "receipt.pdf")
    with app.app_context():
        assert analyse_evidence(item) == AnalysisStatus.done
    assert result(app, case.number, "receipt_imei")["result"] == "pass"


def test_a_pdf_of_thousands_of_pages_is_read_on_its_first_pages_only():
    claimed = imei.generate()
    pdf = _receipt_pdf([f"IMEI {claimed}", "Date 01.03.2024"], pages=3000)
    started = time.monotonic()
    found = receipt_text.read_receipt(pdf, "application/pdf")
    assert time.monotonic() - started < receipt_text.WALL_SECONDS
    assert [item.value for item in found if item.kind == "imei"] == [claimed]
    assert {item.page for item in found} <= set(range(1, receipt_text.PDF_PAGES + 1))


@needs_tesseract
def test_a_scanned_pdf_with_a_huge_page_is_drawn_at_a_bounded_size():
    writer = PdfWriter()
    writer.add_blank_page(14400, 14400)  # 200 inches square, the largest page PDF allows
    out = io.BytesIO()
    writer.write(out)
    started = time.monotonic()
    assert receipt_text.read_receipt(out.getvalue(), "application/pdf") == []
    assert time.monotonic() - started < 2 * receipt_text.WALL_SECONDS
