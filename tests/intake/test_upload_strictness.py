"""Uploads are strict: a truncated picture or a PDF with active content is refused with a
clear message, whatever else the process imported; a clean PDF still passes."""
from __future__ import annotations

import io

import pytest
import weasyprint  # noqa: F401  (imported for what it does to Pillow: the condition under test)
from intake_samples import jpeg, png
from PIL import Image, ImageDraw, ImageFile

from hostile_pdfs import HOSTILE, clean, encrypted, slow_page
from support import evidence
from support.models import EvidenceKind


def _inspect(app, data: bytes, name: str, kind=EvidenceKind.receipt):
    with app.test_request_context():
        return evidence.inspect(evidence.Upload(name, data, kind), app.config)


def _detailed(format_name: str) -> bytes:
    picture = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(picture)
    for step in range(0, 800, 7):
        draw.line((step, 0, 800 - step, 600), fill=(step % 256, 90, 200 - step % 200), width=3)
    out = io.BytesIO()
    picture.save(out, format_name)
    return out.getvalue()


@pytest.mark.parametrize("format_name, name", [("JPEG", "box.jpg"), ("PNG", "box.png")])
def test_the_first_half_of_a_picture_is_refused_though_weasyprint_allows_truncation(plain_app, format_name, name):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "WeasyPrint's import makes Pillow lenient for the process"
    whole = _detailed(format_name)
    assert _inspect(plain_app, whole, name).media_type.startswith("image/")

    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, whole[: len(whole) // 2], name)

    assert refused.value.code == "incomplete"
    assert f"“{name}” is incomplete" in refused.value.message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the process's setting is put back for the reports"


def test_small_samples_still_pass(plain_app):
    assert _inspect(plain_app, jpeg(), "a.jpg").width == 640
    assert _inspect(plain_app, png(), "a.png").width == 300


@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_pdf_with_active_content_or_an_embedded_file_is_refused(plain_app, what):
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, HOSTILE[what], "receipt.pdf")
    assert refused.value.code == "pdf_active_content", what
    assert refused.value.message.startswith("“receipt.pdf” contains ")
    assert "Please print it to a new PDF or send a photo of it." in refused.value.message


def test_the_refusal_names_what_was_found(plain_app):
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, HOSTILE["evil.exe attachment annotation"], "receipt.pdf")
    assert "contains an attached file" in refused.value.message
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, HOSTILE["hex-escaped /J#61vaScript name tree"], "receipt.pdf")
    assert "contains a script (JavaScript)" in refused.value.message


def test_an_encrypted_pdf_is_refused(plain_app):
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, encrypted(), "receipt.pdf")
    assert refused.value.code == "pdf_encrypted"
    assert "password-protected or encrypted" in refused.value.message


def test_a_clean_pdf_with_a_cycle_and_a_web_link_is_accepted(plain_app):
    inspected = _inspect(plain_app, clean(), "receipt.pdf")
    assert inspected.media_type == "application/pdf"
    assert inspected.extracted == {"pages": 1}
    printed = evidence.pdf.pdf_pictures(clean(), EvidenceKind.receipt)[1]  # what the worker draws afterwards
    assert Image.open(io.BytesIO(printed)).size[1] > 0


def test_a_pdf_slow_to_draw_is_accepted_without_drawing_and_the_worker_gives_up_clearly(plain_app, monkeypatch):
    # accepted at upload whatever the load: only a cheap parser runs in the request
    calls = []
    real_run = evidence.pdf.subprocess.run
    monkeypatch.setattr(evidence.pdf.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    inspected = _inspect(plain_app, slow_page(), "receipt.pdf")
    assert (inspected.thumbnail, inspected.printed, calls) == (None, None, [])
    # the worker's drawing has a time limit; this page keeps pdftoppm busy far longer than 0.05 s
    with pytest.raises(evidence.pdf.DrawFailed, match="time limit"):
        evidence.pdf.pdf_pictures(slow_page(), EvidenceKind.receipt, seconds=0.05)


def test_a_pdf_of_thousands_of_pages_or_with_a_huge_page_is_refused_clearly(plain_app):
    from pypdf import PdfWriter

    def pdf(pages: int, side: float) -> bytes:
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(side, side)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, pdf(3000, 200), "receipt.pdf")
    assert refused.value.code == "pdf_too_many_pages"
    assert refused.value.message == "“receipt.pdf” has 3000 pages; we accept at most 50. Please send only the pages that matter."
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, pdf(1, 20000), "receipt.pdf")
    assert refused.value.code == "pdf_page_too_large"
    assert _inspect(plain_app, pdf(50, 14400), "receipt.pdf").extracted == {"pages": 50}
