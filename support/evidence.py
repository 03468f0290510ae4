"""The evidence pipeline: judge an upload by its bytes, make a safe copy, store, record.

``inspect`` decides everything without touching the database or the disk: the type comes
from libmagic, never the name; images are opened with a per-call pixel limit (checked
against the header before any pixel is decoded), turned upright and re-encoded onto a
fresh canvas, so EXIF, GPS, comments and appended bytes never reach the copy agents view;
PDFs with active content (``pdf_content``), truncated pictures and pages too slow to draw
are refused. Each accepted file also gets its print copy, the JPEG case reports embed
(``reports.images``), and a picture (a PDF's first page) its perceptual hash (``phash``),
which ``near_duplicates`` indexes in the same transaction as the evidence row. Inspect
before the write transaction begins: it is the slow part.
``attach`` stores the files content-addressed and adds the ``Evidence`` row; the files are
settled when the transaction ends (``written``): removed only if no committed row names them.
"""
from __future__ import annotations

import hashlib
import io
import math
import statistics
import subprocess
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable

import magic
import pillow_heif
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageFile, ImageFilter, ImageOps
from pypdf import PdfReader
from sqlmodel import Session

from . import audit, near_duplicates, pdf_content, written
from .models import Case, CaseKind, Evidence, EvidenceKind
from .refusals import Refused
from .reports import images
from .storage import FileStorage, storage

pillow_heif.register_heif_opener()

K = EvidenceKind
#: per case kind, each set is one requirement: any one of its kinds satisfies it
REQUIRED: dict[CaseKind, list[set[EvidenceKind]]] = {
    CaseKind.device_unbind: [{K.receipt}, {K.box_photo}],
    CaseKind.lost_credentials: [{K.receipt}, {K.box_photo}, {K.imei_screen}],
    CaseKind.locked_account: [{K.id_document, K.receipt}],
}
#: media types accepted, as libmagic names them, and the Pillow format each must open as
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF", "image/heif": "HEIF"}
PDF_TYPE = "application/pdf"
ALLOWED_NAMES = "JPEG, PNG, WebP, HEIC, PDF"
#: what ``pdf_content.active_content`` found, in the claimant's words
PDF_CONTENT_WORDS = {
    "javascript": _l("a script (JavaScript)"),
    "action": _l("an action that opens or sends something"),
    "attachment": _l("an attached file"),
    "media": _l("embedded media"),
    "xfa": _l("an XFA form"),
    "too_complex": _l("more objects than we can check"),
}
THUMBNAIL_BOX = (320, 320)
#: seconds pdftoppm may take to draw page 1; longer is refused
PDF_PICTURE_SECONDS = 5


class EvidenceRejected(Refused):
    """An upload we will not keep; ``message`` is in the request's language."""

    def __init__(self, code: str, message: str, field: str = "evidence"):
        super().__init__(code, message, field)


@dataclass
class Upload:
    """One file as received: the name is for display only, the bytes are judged."""

    filename: str
    data: bytes
    kind: EvidenceKind


@dataclass
class Inspected:
    """An upload that passed every check, with the copies to store. Nothing is stored yet."""

    upload: Upload
    media_type: str
    sha256: str
    viewable: bytes | None
    thumbnail: bytes
    #: the JPEG case reports print (a PDF's first page, for a PDF)
    printed: bytes
    width: int | None = None
    height: int | None = None
    phash: str | None = None
    exif: dict = field(default_factory=dict)
    extracted: dict = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return display_name(self.upload.filename)


def display_name(filename: str) -> str:
    """The claimant's file name reduced to something safe to show (never used as a path)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return name[:255] or "upload"


def missing_evidence(kind: CaseKind, present: Iterable[EvidenceKind]) -> list[set[EvidenceKind]]:
    """The requirements of ``kind`` that none of the ``present`` kinds satisfies."""
    have = set(present)
    return [needed for needed in REQUIRED[kind] if not needed & have]


def inspect(upload: Upload, config) -> Inspected:
    """Judge ``upload`` by its bytes; raise ``EvidenceRejected`` or return the safe copies."""
    name = display_name(upload.filename)
    if not upload.data:
        raise EvidenceRejected("empty", _("“%(name)s” is empty.", name=name))
    limit_mb = config["MAX_FILE_MB"]
    if len(upload.data) > limit_mb * 1024 * 1024:
        raise EvidenceRejected("too_large", _("“%(name)s” is larger than %(limit)s MB. Please send a smaller photo or scan.",
                                               name=name, limit=limit_mb))
    media_type = magic.from_buffer(upload.data[:65536], mime=True)
    if media_type in IMAGE_TYPES:
        inspected = _inspect_image(upload, media_type, config)
    elif media_type == PDF_TYPE:
        inspected = _inspect_pdf(upload)
    else:
        raise EvidenceRejected("type_not_allowed", _("“%(name)s” is not a file type we accept. Please send a photo or a PDF: %(allowed)s.",
                                                      name=name, allowed=ALLOWED_NAMES))
    return inspected


def _unreadable(upload: Upload) -> EvidenceRejected:
    return EvidenceRejected("unreadable", _("“%(name)s” could not be read. It may be damaged; please take the photo or scan again.",
                                            name=display_name(upload.filename)))


_strict = threading.Lock()
_strict_holders = 0
_lenient_before = False


@contextmanager
def strict_decoding():
    """Pillow refuses truncated images inside this block, whatever the process asked for.

    Importing WeasyPrint sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole
    process (a report should print what it can); evidence must be whole. The flag is
    global, so it is cleared while any thread decodes evidence and put back when the last
    one leaves.
    """
    global _strict_holders, _lenient_before
    with _strict:
        if _strict_holders == 0:
            _lenient_before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        _strict_holders += 1
    try:
        yield
    finally:
        with _strict:
            _strict_holders -= 1
            if _strict_holders == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _lenient_before


def _incomplete(upload: Upload) -> EvidenceRejected:
    return EvidenceRejected("incomplete", _("“%(name)s” is incomplete: the file ends before the picture does. Please send the whole file again.",
                                            name=display_name(upload.filename)))


def _inspect_image(upload: Upload, media_type: str, config) -> Inspected:
    limit = config["MAX_IMAGE_PIXELS"]
    too_many = EvidenceRejected("too_many_pixels", _("“%(name)s” has too many pixels to process. Please send a smaller picture.",
                                                     name=display_name(upload.filename)))
    try:
        with warnings.catch_warnings():
            # our own limit below decides; Pillow's global warning is not a control
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data), formats=[IMAGE_TYPES[media_type]])
        width, height = image.size
        if width * height > limit:  # judged from the header, before decoding any pixel
            raise too_many
        with strict_decoding():
            image.load()
        exif = exif_summary(image)
        upright = ImageOps.exif_transpose(image)
        canvas = _fresh_canvas(upright)
        viewable = _encode(canvas, lossless=media_type == "image/png")
        printable = images.fit(canvas, images.box_for(upload.kind))
        thumbnail_bytes = _encode(_thumbnail(printable), lossless=False)
        printed = images.encode(printable)
        picture_hash = phash(canvas)
    except EvidenceRejected:
        raise
    except Image.DecompressionBombError as error:
        raise too_many from error
    except (OSError, EOFError) as error:
        raise (_incomplete(upload) if "truncated" in str(error) or isinstance(error, EOFError) else _unreadable(upload)) from error
    except Exception as error:  # Pillow raises many types for hostile bytes; all mean unreadable
        raise _unreadable(upload) from error
    return Inspected(upload=upload, media_type=media_type, sha256=hashlib.sha256(upload.data).hexdigest(),
                     viewable=viewable, thumbnail=thumbnail_bytes, printed=printed, width=canvas.width,
                     height=canvas.height, phash=picture_hash, exif=exif)


def _thumbnail(picture: Image.Image) -> Image.Image:
    """A thumbnail made from the print-sized picture (a few hundred kilopixels, not the full canvas)."""
    thumbnail = picture.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX)
    return thumbnail


def _fresh_canvas(image: Image.Image) -> Image.Image:
    """Only the pixels, on a new image: no metadata, profile, comment or trailing bytes survive."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    canvas = Image.new(mode, image.size, "white")
    canvas.paste(image.convert(mode))
    return canvas


def _encode(image: Image.Image, *, lossless: bool) -> bytes:
    """PNG for lossless sources (screenshots stay sharp), JPEG otherwise (alpha on white)."""
    out = io.BytesIO()
    if lossless:
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode != "RGB":
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        image.save(out, "JPEG", quality=88)
    return out.getvalue()


#: the picture is trimmed on a copy at most this many pixels on its shorter side (finer is slower, no steadier)
TRIM_SIDE = 512
#: grey levels a pixel must differ from the background to count as content
TRIM_CONTRAST = 40
#: cosines of the 8 lowest frequencies of a 32-point DCT-II
_DCT = [[math.cos(math.pi * (2 * x + 1) * u / 64) for x in range(32)] for u in range(8)]
#: a picture whose 32x32 greys vary less than this (standard deviation) is blank: no hash
BLANK_DEVIATION = 2.0
#: a picture with a side shorter than this has too few pixels to tell it from another: no hash
HASHED_MIN_SIDE = 32


def phash(image: Image.Image) -> str | None:
    """A 64-bit perceptual hash as 16 hex digits; None for a blank or tiny picture (it proves nothing).

    The content is cut out first (``content_box``: a receipt on a table, or the ink on a
    flat scan), so cropping a few per cent of background off an edge leaves the hash as it
    was; then the DCT pHash: 32x32 greys, the 8x8 lowest frequencies, one bit per
    coefficient above their median. Re-encoding, resizing and brightness barely move the
    low frequencies. ``near_duplicates`` says how far apart two copies of one picture
    measured, and two receipts of one shop's layout.
    """
    if min(image.size) < HASHED_MIN_SIDE:
        return None
    grey = image.convert("L")
    factor = -(-min(grey.size) // TRIM_SIDE)  # rounded up: the shorter side ends at most TRIM_SIDE
    small = grey.reduce(factor) if factor > 1 else grey
    box = content_box(small)
    pixels = small.crop(box).resize((32, 32), Image.Resampling.LANCZOS).tobytes()
    if statistics.pstdev(pixels) < BLANK_DEVIATION:
        return None
    rows = [[sum(pixels[y * 32 + x] * cosine[x] for x in range(32)) for cosine in _DCT] for y in range(32)]
    coefficients = [sum(_DCT[v][y] * rows[y][u] for y in range(32)) for v in range(8) for u in range(8)]
    median = statistics.median(coefficients)
    bits = 0
    for coefficient in coefficients:
        bits = (bits << 1) | (coefficient > median)
    return f"{bits:016x}"


def content_box(grey: Image.Image) -> tuple[int, int, int, int]:
    """The box around what differs from the background (the median corner's grey, after a
    3x3 median filter against noise); the whole picture when nothing or only a sliver does."""
    quiet = grey.filter(ImageFilter.MedianFilter(3))
    width, height = quiet.size
    corners = sorted(quiet.getpixel(corner) for corner in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)))
    background = (corners[1] + corners[2]) // 2
    box = quiet.point(lambda grey_level: 255 if abs(grey_level - background) > TRIM_CONTRAST else 0).getbbox()
    if not box or box[2] - box[0] < width // 8 or box[3] - box[1] < height // 8:
        return (0, 0, width, height)
    return box


_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _SOFTWARE, _DATETIME, _DATETIME_ORIGINAL = 0x010F, 0x0110, 0x0131, 0x0132, 0x9003


def exif_summary(image: Image.Image) -> dict:
    """What the original's metadata says (read before it is stripped from the copy).

    Keys: make, model, software, taken_at (ISO text), has_gps. Absent values are left out.
    """
    exif = image.getexif()
    details = exif.get_ifd(_EXIF_IFD)
    summary = {
        "make": exif.get(_MAKE),
        "model": exif.get(_MODEL),
        "software": exif.get(_SOFTWARE),
        "taken_at": _iso(details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)),
    }
    summary = {key: str(value).strip("\x00 ")[:120] for key, value in summary.items() if value}
    if exif.get_ifd(_GPS_IFD) or _GPS_IFD in exif:
        summary["has_gps"] = True
    return summary


def _iso(value) -> str | None:
    """EXIF's ``YYYY:MM:DD HH:MM:SS`` as ISO text; None when it is not a date."""
    text = str(value or "").strip("\x00 ")
    if len(text) < 19 or text[4] != ":" or text[7] != ":":
        return None
    return f"{text[:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"


def _inspect_pdf(upload: Upload) -> Inspected:
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
        raise _unreadable(upload) from error
    if active:
        raise EvidenceRejected("pdf_active_content", _("“%(name)s” contains %(what)s. We accept no scripts, actions, media or attached files in a PDF. Please print it to a new PDF or send a photo of it.",
                                                       name=name, what=PDF_CONTENT_WORDS[active]))
    thumbnail, printed, picture_hash = _pdf_pictures(upload)
    return Inspected(upload=upload, media_type=PDF_TYPE, sha256=hashlib.sha256(upload.data).hexdigest(),
                     viewable=None, thumbnail=thumbnail, printed=printed, phash=picture_hash,
                     extracted={"pages": pages, "text": _pdf_text(upload)})


def _pdf_text(upload: Upload) -> str:
    """Page 1's text (at most 4,000 characters) by poppler's ``pdftotext``, niced and time-limited
    like the pictures: parsing a content stream is slow work that must not starve the desk."""
    try:
        result = subprocess.run(["nice", "-n", "10", "pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", "-", "-"],
                                input=upload.data, capture_output=True, timeout=PDF_PICTURE_SECONDS, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.decode("utf-8", "replace").strip()[:4000]


def _pdf_pictures(upload: Upload) -> tuple[bytes, bytes, str | None]:
    """Page 1 as a PNG thumbnail, as a print copy and its perceptual hash (a scanned receipt
    sent as a PDF is compared like its photo), drawn at print size by poppler's
    ``pdftoppm`` in its own process, niced, with a time limit (a hostile PDF can only
    crash or slow that one, and a page that takes longer than the limit is refused)."""
    box = images.box_for(upload.kind)
    try:
        result = subprocess.run(
            ["nice", "-n", "10", "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", str(box), "-"],
            input=upload.data, capture_output=True, timeout=PDF_PICTURE_SECONDS, check=True,
        )
    except subprocess.TimeoutExpired as error:
        raise EvidenceRejected("pdf_too_slow", _("“%(name)s” takes too long to draw, so we cannot check it. Please print it to a new PDF or send a photo of it.",
                                                 name=display_name(upload.filename))) from error
    except subprocess.CalledProcessError as error:
        raise _unreadable(upload) from error
    if magic.from_buffer(result.stdout[:64], mime=True) != "image/png":
        raise _unreadable(upload)
    page = Image.open(io.BytesIO(result.stdout), formats=["PNG"])
    if max(page.size) > box:  # poppler was told the size; a larger answer is not a page of this file
        raise _unreadable(upload)
    page.load()
    png = io.BytesIO()
    _thumbnail(page).save(png, "PNG")
    return png.getvalue(), images.encode(page), phash(page)


# -- storing ------------------------------------------------------------------------------


def store_files(inspected: Inspected, *, files: FileStorage) -> None:
    """Store the original and its copies outside any transaction (a staged upload, kept on purpose)."""
    for area, data in _areas(inspected):
        files.store(area, data)


def _areas(inspected: Inspected) -> list[tuple[str, bytes]]:
    copies = [("originals", inspected.upload.data), ("thumbnails", inspected.thumbnail), ("print", inspected.printed)]
    return copies + ([("viewable", inspected.viewable)] if inspected.viewable is not None else [])


def attach(
    session: Session,
    *,
    case: Case,
    upload: Upload | Inspected,
    uploaded_by: str,
    config,
    origin: audit.Origin | None = None,
    actor: audit.Actor | None = None,
) -> Evidence:
    """Store and record one file on ``case``; audited as ``evidence.added``.

    Pass an ``Inspected`` upload: inspecting is slow and belongs before the write
    transaction (an ``Upload`` is inspected here, for commands and demo data). Refuses
    with ``EvidenceRejected``. The files are settled when the session's transaction ends
    (``written``): kept if a committed row references them, removed otherwise.
    ``actor`` defaults to the case's claimant.
    """
    inspected = upload if isinstance(upload, Inspected) else inspect(upload, config)
    actor = actor or audit.Actor("claimant", case.number, case.claimant_name)
    stored = written.of(session, storage())
    sha256s = {area: stored.store(area, data) for area, data in _areas(inspected)}
    with session.begin_nested():
        evidence = Evidence(
            case_id=case.id, kind=inspected.upload.kind, sha256=sha256s["originals"],
            viewable_sha256=sha256s.get("viewable"), thumbnail_sha256=sha256s["thumbnails"],
            print_sha256=sha256s["print"],
            media_type=inspected.media_type, size=len(inspected.upload.data), width=inspected.width,
            height=inspected.height, original_name=inspected.display_name, phash=inspected.phash,
            exif=inspected.exif, extracted=inspected.extracted, uploaded_by=uploaded_by,
        )
        session.add(evidence)
        session.flush()
        near_duplicates.index(session, evidence)
        audit.record(session, actor=actor, action="evidence.added", subject=("evidence", evidence.id),
                     case_number=case.number,
                     after={"kind": evidence.kind.value, "sha256": evidence.sha256,
                            "media_type": evidence.media_type, "size": evidence.size,
                            "name": evidence.original_name},
                     origin=origin)
    return evidence


def add_print_copy(session: Session, evidence: Evidence, *, config, actor: audit.Actor) -> bool:
    """Give evidence stored before print copies existed the one a fresh upload gets (its
    original inspected again); audited as ``evidence.print_copy_added``. False when the
    original is gone or no longer passes inspection (the report decodes what is left)."""
    files = storage()
    if evidence.print_sha256 or not files.exists("originals", evidence.sha256):
        return False
    upload = Upload(evidence.original_name, files.open("originals", evidence.sha256), evidence.kind)
    try:
        printed = inspect(upload, config).printed
    except EvidenceRejected:
        return False
    evidence.print_sha256 = written.of(session, files).store("print", printed)
    with session.begin_nested():
        session.add(evidence)
        audit.record(session, actor=actor, action="evidence.print_copy_added", subject=("evidence", evidence.id),
                     case_number=session.get(Case, evidence.case_id).number,
                     after={"print_sha256": evidence.print_sha256})
    return True
