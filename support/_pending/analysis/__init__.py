"""Reading evidence files after they are stored: what each kind of file is read for.

``read`` is pure CPU work on bytes (no database, no transaction): box photos and IMEI
screens → every barcode (``barcodes``), IMEI screens also → the IMEIs in their text
(``screen_text``), receipts → their text (``READERS``, where the receipt reader plugs in),
every picture → whether it is a screenshot (``screenshots``). ``run.analyse_evidence``
loads the stored file, calls ``read`` outside any write transaction and stores the result.
A picture is opened with the same pixel limit as at upload, checked from its header before
a pixel is decoded, so a file changed in storage cannot become a decompression bomb here.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Callable

from PIL import Image

from ...models import EvidenceKind, ExtractedKind
from . import barcodes, screen_text, screenshots
from .found import Found, imeis_in

__all__ = ["Found", "Reading", "ReadRefused", "imeis_in", "read", "wanted", "READERS"]

PDF_TYPE = "application/pdf"
#: what the stored viewable copy of a picture is (``images`` writes only these)
VIEWABLE_FORMATS = ["JPEG", "PNG"]
#: per evidence kind, the readers of its picture (each returns ``Found`` items)
PICTURE_READERS: dict[EvidenceKind, list[Callable[[Image.Image], list[Found]]]] = {
    EvidenceKind.box_photo: [barcodes.read],
    EvidenceKind.imei_screen: [barcodes.read, screen_text.read],
}
#: per evidence kind, readers of the stored bytes whatever their type: ``reader(data, media_type)``
READERS: dict[EvidenceKind, list[Callable[[bytes, str], list[Found]]]] = {}


class ReadRefused(ValueError):
    """The stored file will not be read (too many pixels, not a picture we can decode)."""


@dataclass
class Reading:
    """What the analysis of one file found."""

    values: list[Found] = field(default_factory=list)
    is_screenshot: bool | None = None


def wanted(kind: EvidenceKind, media_type: str) -> bool:
    """Whether a file of this kind and type is analysed at all (every picture is: screenshots)."""
    return media_type != PDF_TYPE or kind in READERS


def read(kind: EvidenceKind, media_type: str, data: bytes, *, exif: dict | None, max_pixels: int) -> Reading:
    """Read one stored file: ``data`` is the viewable copy of a picture, the original of a PDF."""
    reading = Reading()
    for reader in READERS.get(kind, []):
        reading.values += reader(data, media_type)
    if media_type == PDF_TYPE:
        return reading
    picture = open_picture(data, max_pixels)
    reading.is_screenshot = screenshots.is_screenshot(picture.width, picture.height, exif)
    seen: set[tuple] = set()
    for reader in PICTURE_READERS.get(kind, []):
        for item in reader(picture):
            if (item.kind, item.value) not in seen or item.kind == ExtractedKind.barcode:
                reading.values.append(item)
                seen.add((item.kind, item.value))
    return reading


def open_picture(data: bytes, max_pixels: int) -> Image.Image:
    """Decode ``data`` if its header promises at most ``max_pixels``; else ``ReadRefused``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=VIEWABLE_FORMATS)
            if picture.width * picture.height > max_pixels:
                raise ReadRefused("too_many_pixels")
            picture.load()
    except ReadRefused:
        raise
    except Image.DecompressionBombError as error:
        raise ReadRefused("too_many_pixels") from error
    except Exception as error:  # Pillow raises many types for broken bytes
        raise ReadRefused("unreadable") from error
    return picture.convert("RGB")
