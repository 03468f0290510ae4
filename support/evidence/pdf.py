"""PDFs: refused with active content or encrypted; page 1 drawn and its text read by poppler,
in their own niced, time-limited processes."""
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


#: seconds pdftoppm may take to draw page 1; longer is refused
PDF_PICTURE_SECONDS = 5


def inspect_pdf(upload: Upload) -> Inspected:
    name = display_name(upload.filename)
    try:
        reader = PdfReader(io.BytesIO(upload.data))
        if reader.is_encrypted:
            raise EvidenceRejected("pdf_encrypted", _("“%(name)s” is password-protected or encrypted, so we cannot check it. Please send a copy without a password, or a photo of it.",
                                                      name=name))
        active = pdf_content.active_content(reader)
        pages = len(reader.pages)
    except EvidenceRejected:
        raise
    except Exception as error:  # pypdf raises many types for broken files
        raise unreadable(upload) from error
    if active:
        raise EvidenceRejected("pdf_active_content", _("“%(name)s” contains %(what)s. We accept no scripts, actions, media or attached files in a PDF. Please print it to a new PDF or send a photo of it.",
                                                       name=name, what=PDF_CONTENT_WORDS[active]))
    thumbnail, printed, picture_hash = pdf_pictures(upload)
    return Inspected(upload=upload, media_type=PDF_TYPE, sha256=hashlib.sha256(upload.data).hexdigest(),
                     viewable=None, thumbnail=thumbnail, printed=printed, phash=picture_hash,
                     extracted={"pages": pages, "text": pdf_text(upload)})


def pdf_text(upload: Upload) -> str:
    """Page 1's text (at most 4,000 characters) by poppler's ``pdftotext``, niced and time-limited
    like the pictures: parsing a content stream is slow work that must not starve the desk."""
    try:
        result = subprocess.run(["nice", "-n", "10", "pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", "-", "-"],
                                input=upload.data, capture_output=True, timeout=PDF_PICTURE_SECONDS, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.decode("utf-8", "replace").strip()[:4000]


def pdf_pictures(upload: Upload) -> tuple[bytes, bytes, str | None]:
    """Page 1 as a PNG thumbnail, as a print copy and its perceptual hash (a scanned receipt
    sent as a PDF is compared like its photo), drawn at print size by poppler's
    ``pdftoppm`` in its own process, niced, with a time limit (a hostile PDF can only
    crash or slow that one, and a page that takes longer than the limit is refused)."""
    box = prints.box_for(upload.kind)
    try:
        result = subprocess.run(
            ["nice", "-n", "10", "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", str(box), "-"],
            input=upload.data, capture_output=True, timeout=PDF_PICTURE_SECONDS, check=True,
        )
    except subprocess.TimeoutExpired as error:
        raise EvidenceRejected("pdf_too_slow", _("“%(name)s” takes too long to draw, so we cannot check it. Please print it to a new PDF or send a photo of it.",
                                                 name=display_name(upload.filename))) from error
    except subprocess.CalledProcessError as error:
        raise unreadable(upload) from error
    if magic.from_buffer(result.stdout[:64], mime=True) != "image/png":
        raise unreadable(upload)
    page = Image.open(io.BytesIO(result.stdout), formats=["PNG"])
    if max(page.size) > box:  # poppler was told the size; a larger answer is not a page of this file
        raise unreadable(upload)
    page.load()
    png = io.BytesIO()
    thumbnail(page).save(png, "PNG")
    return png.getvalue(), prints.encode(page), phash(page)
