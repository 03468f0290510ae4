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
    assert Image.open(io.BytesIO(inspected.printed)).size[1] > 0


def test_a_pdf_that_draws_too_long_is_refused_clearly(plain_app, monkeypatch):
    # the real limit is 5 s; this page keeps pdftoppm busy far longer than 0.05 s
    monkeypatch.setattr(evidence.pdf, "PDF_PICTURE_SECONDS", 0.05)
    with pytest.raises(evidence.EvidenceRejected) as refused:
        _inspect(plain_app, slow_page(), "receipt.pdf")
    assert refused.value.code == "pdf_too_slow"
    assert "takes too long to draw" in refused.value.message
