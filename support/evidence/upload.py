"""An upload as received (``Upload``), as judged (``Inspected``), and the refusal (``EvidenceRejected``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from PIL import Image

from ..models import EvidenceKind
from ..refusals import Refused


THUMBNAIL_BOX = (320, 320)
#: the bands around a picture that is not square (a tall receipt keeps its whole height)
LETTERBOX = (238, 238, 238)


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
    #: None for a PDF: the worker draws its page 1 after the upload (``pictures``)
    thumbnail: bytes | None
    #: the JPEG case reports print (a PDF's first page, drawn by the worker)
    printed: bytes | None
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


def unreadable(upload: Upload) -> EvidenceRejected:
    return EvidenceRejected("unreadable", _("“%(name)s” could not be read. It may be damaged; please take the photo or scan again.",
                                            name=display_name(upload.filename)))


def incomplete(upload: Upload) -> EvidenceRejected:
    return EvidenceRejected("incomplete", _("“%(name)s” is incomplete: the file ends before the picture does. Please send the whole file again.",
                                            name=display_name(upload.filename)))


def thumbnail(picture: Image.Image) -> Image.Image:
    """A thumbnail made from the print-sized picture (a few hundred kilopixels, not the full
    canvas): the whole picture fitted inside ``THUMBNAIL_BOX`` and letterboxed to a square, so a tall
    receipt or a PDF page is shown whole, never cropped to a strip of its middle."""
    fitted = picture.copy()
    fitted.thumbnail(THUMBNAIL_BOX)
    if fitted.mode in ("RGBA", "LA", "PA") or "transparency" in fitted.info:
        fitted = fitted.convert("RGBA")
        paper = Image.new("RGB", fitted.size, "white")
        paper.paste(fitted, mask=fitted.getchannel("A"))
        fitted = paper
    side = max(fitted.size)  # square; a small picture is never enlarged
    boxed = Image.new("RGB", (side, side), LETTERBOX)
    boxed.paste(fitted.convert("RGB"), ((side - fitted.width) // 2, (side - fitted.height) // 2))
    return boxed
