"""Reading PDFs back with poppler, and the fixed texts the report tests look for."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdfdetach", "pdftoppm", "pdffonts"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (make test installs it as root)")

#: the receipt's frame colour, so a page image shows where the receipt landed
RECEIPT_RED = (230, 20, 20)
INTERNAL_NOTE = "Internal: the shop in the receipt closed in 2023, check with the vendor"
PUBLIC_MESSAGE = "Please send a photo of the box label with both IMEI barcodes."


def pdf_text(pdf: bytes, *, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text as poppler reads it, whitespace collapsed."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    text = subprocess.run(["pdftotext", *pages, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())


def pdf_meta(pdf: bytes) -> tuple[str, str]:
    """``pdfinfo`` and ``pdfinfo -meta`` (the XMP packet)."""
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    meta = subprocess.run(["pdfinfo", "-meta", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return info, meta


def attached_json(pdf: bytes, tmp_path: Path) -> tuple[list[str], object]:
    """The attachment names (``pdfdetach -list``) and the first one parsed as JSON (``pdfdetach -save 1``)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    listing = subprocess.run(["pdfdetach", "-list", str(source)], capture_output=True, check=True, text=True).stdout
    names = [line.split(": ", 1)[1] for line in listing.splitlines()[1:]]
    target = tmp_path / "attachment.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(target), str(source)], check=True)
    return names, json.loads(target.read_text())
