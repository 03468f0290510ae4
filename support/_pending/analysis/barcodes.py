"""Every 1D and 2D barcode on a picture, by zxing-cpp; the IMEIs among them.

A phone box label carries each IMEI as a Code 128 (sometimes with EAN-13 or a QR code for
the model); a screen showing ``*#06#`` often draws them as barcodes too. Every code read is
kept (kind ``barcode``, its format in ``raw``), and each one whose text is a valid IMEI
also as kind ``imei``. A code's checksum and the IMEI's Luhn digit together make a wrong
IMEI read very unlikely; a code zxing cannot read is simply absent.

Large photos are decoded at most ``MAX_SIDE`` pixels on their longer side (a label fills
enough of a box photo for that; decoding 12 MP at full size takes seconds); boxes are given
back in the stored picture's pixels.
"""
from __future__ import annotations

import zxingcpp
from PIL import Image

from ...models import ExtractedKind, ExtractedSource
from .found import Found, imeis_in

#: longer side, in pixels, a picture is decoded at (then at full size if nothing was found)
MAX_SIDE = 2000


def read(picture: Image.Image) -> list[Found]:
    """The codes on ``picture`` (an upright RGB or L image), IMEIs first, in reading order."""
    gray = picture.convert("L")
    scale = min(1.0, MAX_SIDE / max(gray.size))
    small = gray.resize((round(gray.width * scale), round(gray.height * scale)), Image.Resampling.BOX) if scale < 1 else gray
    codes = zxingcpp.read_barcodes(small)
    if not codes and scale < 1:
        codes, scale = zxingcpp.read_barcodes(gray), 1.0
    found: list[Found] = []
    for code in codes:
        box = _box(code, scale)
        label = f"{code.format.name}: {code.text}"
        found.append(Found(ExtractedKind.barcode, code.text[:255], label, ExtractedSource.barcode, box))
        for imei, _start, _end in imeis_in(code.text):
            found.append(Found(ExtractedKind.imei, imei, label, ExtractedSource.barcode, box))
    return sorted(found, key=lambda item: (item.kind != ExtractedKind.imei, item.box[1], item.box[0]))


def _box(code, scale: float) -> tuple[int, int, int, int]:
    position = code.position
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs, ys = [point.x / scale for point in corners], [point.y / scale for point in corners]
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))
