"""Reading receipts: the fields in their text (en, ru, it), a PDF's text layer without OCR,
Tesseract on a photographed receipt, and files that try to break the reader."""
from __future__ import annotations

import io
import os
import random
import shutil
from datetime import date

import pytest
from PIL import Image

from receipt_samples import make_receipt, receipt_paper, receipt_pdf, receipt_photo
from support import imei
from support.imei import luhn_digit
from support.evidence.analysis.receipt_fields import Line, Word, dates, fields, imeis
from support.evidence.analysis.receipt_text import ReadFailed, read_receipt

TESSERACT = shutil.which("tesseract")
needs_tesseract = pytest.mark.skipif(not TESSERACT, reason="tesseract-ocr is not installed (make test installs it as root)")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def _line(text: str) -> Line:
    return Line([Word(word, (10 * index, 0, 10 * index + 8, 10), 0.9) for index, word in enumerate(text.split())])


def _values(found, kind: str) -> list[str]:
    return [item.value for item in found if item.kind == kind]


@pytest.mark.parametrize("text", [
    "05.12.2026", "5/12/26", "2026-12-05", "5 dicembre 2026", "5 декабря 2026 г.", "Data: 05-12-2026",
    "December 5, 2026", "5 Dec 2026", "Дата 05.12.26 14:31", "5 DICEMBRE 2026",
])
def test_dates_in_every_usual_format_read_as_the_same_day(text):
    assert _values(dates(_line(text), "ocr"), "date") == ["2026-12-05"]


def test_a_date_only_month_first_can_make_is_read_month_first_and_non_dates_are_not_dates():
    assert _values(dates(_line("12/25/2026"), "ocr"), "date") == ["2026-12-25"]
    assert _values(dates(_line("31.02.2026 1.234,56 12:45 v2.3.4"), "ocr"), "date") == []


def test_imeis_need_fifteen_digits_and_a_valid_check_digit():
    good = imei.generate("35")
    wrong_check = good[:14] + str((int(good[14]) + 1) % 10)
    grouped = f"{good[:2]} {good[2:8]} {good[8:14]} {good[14]}"
    assert _values(imeis(_line(f"IMEI: {grouped}"), "ocr"), "imei") == [good]
    assert _values(imeis(_line(f"IMEI {wrong_check}"), "ocr"), "imei") == []
    assert _values(imeis(_line(f"IMEISV {good}7"), "ocr"), "imei") == []  # 16 digits: not an IMEI
    # OCR reads 0 as O and 1 as l: in a run of mostly digits they are digits again
    body = "35693803564380"
    misread = (body + luhn_digit(body)).replace("0", "O").replace("1", "l")
    assert _values(imeis(_line(f"IMEI {misread}"), "ocr"), "imei") == [body + luhn_digit(body)]


def test_the_box_of_a_value_covers_the_words_it_was_read_from():
    value = imei.generate("35")
    found = imeis(_line(f"IMEI {value[:8]} {value[8:]} end"), "ocr")
    assert found[0].box == (10, 0, 28, 10) and found[0].confidence == 0.9


def test_shop_model_total_and_serial():
    lines = [_line(text) for text in ("MediaWorld Roma", "Data 03/04/2025", "Redmi Note 13 Pro 5G 349,00",
                                      "Numero di serie 4B21X0917", "Subtotale 349,00", "TOTALE EUR 1.349,00")]
    found = fields(lines, "ocr")
    assert _values(found, "shop") == ["MediaWorld Roma"]
    assert _values(found, "model") == ["Redmi Note 13"]
    assert _values(found, "serial") == ["4B21X0917"]
    assert _values(found, "total") == ["1349.00 EUR"]
    assert _values(fields([_line("ИТОГО =12 990,00 руб.")], "ocr"), "total") == ["12990.00 RUB"]


@needs_poppler
@pytest.mark.parametrize("language", ["en", "ru", "it"])
def test_a_pdf_with_text_is_read_from_its_text_layer_without_ocr(language, tmp_path, monkeypatch):
    receipt = make_receipt(random.Random(language), language, day=date(2026, 12, 5))
    # only the PDF tools are on the PATH: an attempt to OCR would fail the reading
    for tool in ("prlimit", "nice", "pdftotext", "pdftoppm"):
        os.symlink(shutil.which(tool), tmp_path / tool)
    monkeypatch.setenv("PATH", str(tmp_path))
    found = read_receipt(receipt_pdf(receipt), "application/pdf")
    assert _values(found, "imei") == [receipt.imei]
    assert "2026-12-05" in _values(found, "date")
    assert _values(found, "model") == [receipt.model]
    assert {item.source.value for item in found} == {"pdf_text"} and all(item.box is None for item in found)


@needs_tesseract
def test_ocr_reads_a_photographed_russian_receipt_with_boxes_on_the_picture():
    rng = random.Random(7)
    receipt = make_receipt(rng, "ru", day=date(2026, 12, 5))
    photo = receipt_photo(receipt, rng, degraded=True, size=(1500, 1900))
    found = read_receipt(photo, "image/jpeg")
    by_kind = {item.kind: item for item in found}
    assert _values(found, "imei") == [receipt.imei]
    assert "2026-12-05" in _values(found, "date")
    assert by_kind["imei"].source == "ocr" and 0 < by_kind["imei"].confidence <= 1
    x0, y0, x1, y1 = by_kind["imei"].box
    assert 0 <= x0 < x1 <= 1500 and 0 <= y0 < y1 <= 1900
    assert by_kind["date"].box[1] < by_kind["imei"].box[1]  # the date is printed above the IMEI


@needs_tesseract
@needs_poppler
def test_a_scanned_pdf_without_text_is_read_by_ocr():
    rng = random.Random(3)
    receipt = make_receipt(rng, "it", day=date(2026, 12, 5))
    pdf = io.BytesIO()
    receipt_paper(receipt, rng).save(pdf, "PDF", resolution=150)
    found = read_receipt(pdf.getvalue(), "application/pdf")
    assert _values(found, "imei") == [receipt.imei]
    assert "2026-12-05" in _values(found, "date")
    assert {item.source.value for item in found} == {"ocr"} and {item.page for item in found} == {1}


def test_hostile_files_fail_the_reading_instead_of_reading_anything():
    huge = io.BytesIO()
    Image.new("L", (9000, 9000)).save(huge, "PNG")
    with pytest.raises(ReadFailed, match="too_many_pixels"):
        read_receipt(huge.getvalue(), "image/png", max_pixels=50_000_000)
    with pytest.raises(ReadFailed):
        read_receipt(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    with pytest.raises(ReadFailed):
        read_receipt(b"%PDF-1.7\n" + os.urandom(200), "application/pdf")
