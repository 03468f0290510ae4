"""PDFs: judged at upload by a cheap parser (pypdf): refused when encrypted, with active
content, with too many pages or a page too large. Drawing page 1 (thumbnail, print copy,
perceptual hash) and reading its text is poppler's slow work: it happens in the worker
(``pictures.draw_pdf_pictures``), in niced, time-limited processes, never in the upload
request, where a loaded machine made a sound PDF fail its time limit."""
from __future__ import annotations

import hashlib
import io
import subprocess

import magic
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image
from pypdf import PdfReader

from .. import pdf_content
from . import prints
from .images import phash
from .upload import EvidenceRejected, Inspected, Upload, display_name, thumbnail, unreadable


PDF_TYPE = "application/pdf"


#: what ``pdf_content.active_content`` found, in the claimant's words
PDF_CONTENT_WORDS = {
    "javascript": _l("a script (JavaScript)"),
    "action": _l("an action that opens or sends something"),
    "attachment": _l("an attached file"),
    "media": _l("embedded media"),
    "xfa": _l("an XFA form"),
    "too_complex": _l("more objects than we can check"),
}


#: seconds pdftoppm (and pdftotext) may take for page 1, in the worker
PDF_PICTURE_SECONDS = 60
#: pages a PDF may have (a receipt or a document has a few; thousands are refused at upload)
MAX_PAGES = 50
#: the longest side a page may have, in points (14,400 pt = 200 in, the most PDF allows)
MAX_PAGE_POINTS = 14_400


class DrawFailed(RuntimeError):
    """poppler could not draw page 1 in time, or drew something that is not a page of it."""


def inspect_pdf(upload: Upload) -> Inspected:
    name = display_name(upload.filename)
    try:
        reader = PdfReader(io.BytesIO(upload.data))
        if reader.is_encrypted:
            raise EvidenceRejected("pdf_encrypted", _("“%(name)s” is password-protected or encrypted, so we cannot check it. Please send a copy without a password, or a photo of it.",
                                                      name=name))
        active = pdf_content.active_content(reader)
        pages = len(reader.pages)
        side = _longest_side(reader.pages[0]) if pages else 0
    except EvidenceRejected:
        raise
    except Exception as error:  # pypdf raises many types for broken files
        raise unreadable(upload) from error
    if active:
        raise EvidenceRejected("pdf_active_content", _("“%(name)s” contains %(what)s. We accept no scripts, actions, media or attached files in a PDF. Please print it to a new PDF or send a photo of it.",
                                                       name=name, what=PDF_CONTENT_WORDS[active]))
    if pages == 0:
        raise unreadable(upload)
    if pages > MAX_PAGES:
        raise EvidenceRejected("pdf_too_many_pages", _("“%(name)s” has %(pages)s pages; we accept at most %(limit)s. Please send only the pages that matter.",
                                                       name=name, pages=pages, limit=MAX_PAGES))
    if side > MAX_PAGE_POINTS:
        raise EvidenceRejected("pdf_page_too_large", _("The first page of “%(name)s” is larger than any paper. Please print it to a new PDF or send a photo of it.",
                                                       name=name))
    return Inspected(upload=upload, media_type=PDF_TYPE, sha256=hashlib.sha256(upload.data).hexdigest(),
                     viewable=None, thumbnail=None, printed=None, phash=None, extracted={"pages": pages})


def _longest_side(page) -> float:
    """The page's longer side in points, its ``/UserUnit`` included (a PDF 1.6 page may scale it up)."""
    box = page.mediabox
    unit = float(page.get("/UserUnit", 1) or 1)
    return max(abs(float(box.width)), abs(float(box.height))) * unit


def pdf_text(data: bytes) -> str:
    """Page 1's text (at most 4,000 characters) by poppler's ``pdftotext``, niced and time-limited;
    empty when it fails (the text is a convenience, the drawing is what counts)."""
    try:
        result = subprocess.run(["nice", "-n", "10", "pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", "-", "-"],
                                input=data, capture_output=True, timeout=PDF_PICTURE_SECONDS, check=True)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.decode("utf-8", "replace").strip()[:4000]


def pdf_pictures(data: bytes, kind, *, seconds: float | None = None) -> tuple[bytes, bytes, str | None]:
    """Page 1 as a PNG thumbnail, as a print copy and its perceptual hash (a scanned receipt
    sent as a PDF is compared like its photo), drawn at print size by poppler's
    ``pdftoppm`` in its own process, niced, with a time limit (a hostile PDF can only
    crash or slow that one). ``DrawFailed`` with the reason otherwise."""
    box = prints.box_for(kind)
    seconds = seconds or PDF_PICTURE_SECONDS
    try:
        result = subprocess.run(
            ["nice", "-n", "10", "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", str(box), "-"],
            input=data, capture_output=True, timeout=seconds, check=True,
        )
    except subprocess.TimeoutExpired as error:
        raise DrawFailed(f"pdftoppm stopped after its time limit of {seconds:g} s") from error
    except (OSError, subprocess.CalledProcessError) as error:
        raise DrawFailed(f"pdftoppm failed: {error}") from error
    if magic.from_buffer(result.stdout[:64], mime=True) != "image/png":
        raise DrawFailed("pdftoppm gave no picture")
    page = Image.open(io.BytesIO(result.stdout), formats=["PNG"])
    if max(page.size) > box:  # poppler was told the size; a larger answer is not a page of this file
        raise DrawFailed("pdftoppm gave a picture larger than asked")
    page.load()
    png = io.BytesIO()
    thumbnail(page).save(png, "PNG")
    return png.getvalue(), prints.encode(page), phash(page)
