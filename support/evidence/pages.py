"""A PDF's pages drawn as pictures for the agents' viewer, cached in storage.

A page is drawn when an agent first looks at it, by poppler's ``pdftoppm`` in its own
niced, time-limited process (as at upload), with no transaction open: the caller has read
the evidence row and released its session first. The PNG is kept in the ``pages`` area
under a name made from the original's SHA-256, the page and the size, so the second look
reads it back and a changed drawing size draws again. Losing the cache loses nothing.
"""
from __future__ import annotations

import hashlib
import io
import subprocess

import magic
from PIL import Image

from ..models import Evidence
from ..storage import Storage
from . import prints

PDF_TYPE = "application/pdf"
#: pages of one PDF the viewer shows (receipts have one or two; a long file is opened as a PDF)
MAX_PAGES = 20
#: seconds ``pdftoppm`` may take to draw one page
PAGE_SECONDS = 10


class PageUnavailable(ValueError):
    """The page does not exist or could not be drawn."""


def page_count(evidence: Evidence) -> int:
    """Pages the viewer offers: those counted at upload, at most ``MAX_PAGES``; 0 for a picture."""
    if evidence.media_type != PDF_TYPE:
        return 0
    pages = (evidence.extracted or {}).get("pages")
    return min(MAX_PAGES, pages) if isinstance(pages, int) and pages > 0 else 1


def cache_name(evidence: Evidence, page: int) -> str:
    return _name(evidence.sha256, page, prints.box_for(evidence.kind))


def cache_names(sha256: str) -> list[str]:
    """Every name a drawn page of the original ``sha256`` may be cached under (each page, each size)."""
    return [_name(sha256, page, box) for page in range(1, MAX_PAGES + 1) for box in (prints.BOX, prints.DOCUMENT_BOX)]


def _name(sha256: str, page: int, box: int) -> str:
    return hashlib.sha256(f"{sha256}/page/{page}/{box}".encode()).hexdigest()


def page_png(files: Storage, evidence: Evidence, page: int) -> bytes:
    """Page ``page`` (from 1) of a PDF as a PNG, from the cache or drawn now (slow: call it
    with no transaction open). Refuses with ``PageUnavailable``."""
    if not 1 <= page <= page_count(evidence):
        raise PageUnavailable(f"no page {page}")
    name = cache_name(evidence, page)
    if files.exists("pages", name):
        return files.open("pages", name)
    if not files.exists("originals", evidence.sha256):
        raise PageUnavailable("the original is gone")
    box = prints.box_for(evidence.kind)
    try:
        result = subprocess.run(
            ["nice", "-n", "10", "pdftoppm", "-f", str(page), "-l", str(page), "-singlefile", "-png",
             "-scale-to", str(box), "-"],
            input=files.open("originals", evidence.sha256), capture_output=True, timeout=PAGE_SECONDS, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise PageUnavailable(f"page {page} could not be drawn") from error
    png = result.stdout
    if magic.from_buffer(png[:64], mime=True) != "image/png":
        raise PageUnavailable(f"page {page} could not be drawn")
    with Image.open(io.BytesIO(png), formats=["PNG"]) as drawn:
        if max(drawn.size) > box:  # poppler was told the size; a larger answer is not this page
            raise PageUnavailable(f"page {page} came out larger than asked")
    files.put("pages", name, png)
    return png
