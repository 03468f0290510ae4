"""Small helpers of the "checks are always current" tests (a module of its own: every test
folder has a conftest, so ``from conftest import`` would be ambiguous)."""
from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def jpeg(color: tuple[int, int, int]) -> bytes:
    """A real photo-sized JPEG; one colour, one file (the same colour gives the same bytes)."""
    output = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(output, "JPEG", quality=90)
    return output.getvalue()
