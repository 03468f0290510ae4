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
from . import barcodes, receipt_text, screen_text, screenshots
from .found import Found, imeis_in

__all__ = ["Found", "Picture", "Reading", "ReadRefused", "imeis_in", "read", "wanted", "READERS"]

PDF_TYPE = "application/pdf"
#: values of one kind kept from one file (``_capped``)
MAX_VALUES_PER_KIND = 20
#: what the stored viewable copy of a picture is (``images`` writes only these)
VIEWABLE_FORMATS = ["JPEG", "PNG"]
#: per evidence kind, the readers of its picture (each returns ``Found`` items)
PICTURE_READERS: dict[EvidenceKind, list[Callable[["Picture"], list[Found]]]] = {
    EvidenceKind.box_photo: [barcodes.read],
    EvidenceKind.imei_screen: [barcodes.read, screen_text.read],
}
#: per evidence kind, readers of the stored bytes whatever their type: ``reader(data, media_type)``
#: returns what it found and the text it read ("" if none)
READERS: dict[EvidenceKind, list[Callable[[bytes, str], tuple[list[Found], str]]]] = {
    EvidenceKind.receipt: [receipt_text.read_receipt_and_text],
}
#: characters of read text kept for full-text search (a receipt has a few thousand)
MAX_TEXT = 20_000


class ReadRefused(ValueError):
    """The stored file will not be read (too many pixels, not a picture we can decode)."""


@dataclass
class Reading:
    """What the analysis of one file found."""

    values: list[Found] = field(default_factory=list)
    is_screenshot: bool | None = None
    #: the text read from the file (``Evidence.read_text``), at most ``MAX_TEXT`` characters
    text: str = ""


def wanted(kind: EvidenceKind, media_type: str) -> bool:
    """Whether a file of this kind and type is analysed at all (every picture is: screenshots)."""
    return media_type != PDF_TYPE or kind in READERS


def read(kind: EvidenceKind, media_type: str, data: bytes, *, exif: dict | None, max_pixels: int) -> Reading:
    """Read one stored file: ``data`` is the viewable copy of a picture, the original of a PDF."""
    reading = Reading()
    for reader in READERS.get(kind, []):
        values, text = reader(data, media_type)
        reading.values += values
        reading.text = "\n".join(filter(None, [reading.text, text]))[:MAX_TEXT]
    if media_type == PDF_TYPE:
        return _capped(reading)
    picture = Picture(data, max_pixels)
    reading.is_screenshot = screenshots.is_screenshot(*picture.size, exif)
    seen: set[tuple] = set()
    for reader in PICTURE_READERS.get(kind, []):
        for item in reader(picture):
            if (item.kind, item.value) not in seen or item.kind == ExtractedKind.barcode:
                reading.values.append(item)
                seen.add((item.kind, item.value))
    return _capped(reading)


def _capped(reading: Reading) -> Reading:
    """At most ``MAX_VALUES_PER_KIND`` values of each kind, in reading order: a file made to
    hold hundreds of IMEIs stores enough to show it (the checks warn past a handful), not
    a table full of them."""
    counts: dict = {}
    kept = []
    for item in reading.values:
        counts[item.kind] = counts.get(item.kind, 0) + 1
        if counts[item.kind] <= MAX_VALUES_PER_KIND:
            kept.append(item)
    reading.values = kept
    return reading


class Picture:
    """A stored picture, decoded in grey at the sizes readers ask for (a JPEG is decoded
    straight at a smaller scale, which is most of the time a 12-MP photo takes). Refuses with
    ``ReadRefused`` a header that promises more than ``max_pixels``."""

    def __init__(self, data: bytes, max_pixels: int):
        self.data, self.max_pixels = data, max_pixels
        self.size = self._open().size
        self._decoded: dict[int, Image.Image] = {}

    def _open(self) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(self.data), formats=VIEWABLE_FORMATS)
        except Image.DecompressionBombError as error:
            raise ReadRefused("too_many_pixels") from error
        except Exception as error:  # Pillow raises many types for broken bytes
            raise ReadRefused("unreadable") from error
        if image.width * image.height > self.max_pixels:
            raise ReadRefused("too_many_pixels")
        return image

    def grey(self, side: int | None = None) -> tuple[Image.Image, float]:
        """The picture in grey, its longer side at most ``side`` (None: full size), and its
        scale against the stored picture (box coordinates are divided by it)."""
        width, height = self.size
        scale = min(1.0, side / max(width, height)) if side else 1.0
        key = round(scale * 10000)
        if key not in self._decoded:
            image = self._open()
            try:
                if scale < 1:
                    image.draft("L", (max(1, round(width * scale)), max(1, round(height * scale))))
                image = image.convert("L")
            except Exception as error:  # truncated or hostile bytes
                raise ReadRefused("unreadable") from error
            if scale < 1:
                image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
            self._decoded[key] = image
        return self._decoded[key], scale
