"""Real files for the erasure tests (Pillow, pypdf) and reading PDFs back with poppler."""
from __future__ import annotations

import io
import subprocess

from PIL import Image
from pypdf import PdfWriter


def jpeg(color=(200, 40, 40), size=(640, 480)) -> bytes:
    """A real photo-like JPEG with camera EXIF and a GPS position (personal data too)."""
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some structure, so the perceptual hash is not flat
        image.paste((20, 20, 20), (x, 0, x + 10, size[1]))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Acme", "Phone 12"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (45.0, 27.0, 36.0), "E", (9.0, 11.0, 24.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF receipt."""
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    """The PDF's text as poppler reads it, whitespace collapsed."""
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())
