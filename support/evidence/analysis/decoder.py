"""The barcode decoder's own process: ``barcodes.read`` runs this file by its path.

zxing-cpp is native code: a crafted picture could keep it busy far longer than a label
takes, and a thread cannot be stopped. Here it runs in a child process that the parent
kills when ``barcodes.DECODE_SECONDS`` pass, with its address space capped
(``MEMORY_BYTES``), so a hostile picture costs at most one bounded process, and the file
is marked ``failed`` with the reason. The program imports only Pillow and zxing-cpp (the
desk's package takes seconds to import; this starts in a few hundredths of a second).

    python decoder.py MAX_PIXELS < picture  →  {"codes": [[format, text, [x0, y0, x1, y1]], ...]}
                                                or {"refused": "too_many_pixels" | "unreadable"}

The picture is decoded in stages, cheapest first, stopping after the first stage that
yields an IMEI (15 digits with a valid Luhn digit, as ``found.imeis_in`` finds them): a
small picture as it is and at twice its size (thin bars), then at full size, then
sharpened (blur), then turned by a few angles (a 1D code turned more than ~10 degrees is
not crossed by one scan line). Boxes are in the stored picture's pixels.
"""
from __future__ import annotations

import io
import json
import math
import re
import resource
import sys
import warnings

import zxingcpp
from PIL import Image, ImageFilter

#: longer side, in pixels, a picture is decoded at first (then at full size if no IMEI was found)
MAX_SIDE = 2000
#: a picture at most this long is also read at twice its size (thin bars of a small label)
SMALL_SIDE = 1200
#: degrees a picture is turned by when nothing was read upright
TURNS = (-12, 12, -24, 24)
#: the address space the decoder may use (a 50-MP picture in grey, turned, fits easily)
MEMORY_BYTES = 2 * 1024 ** 3
#: what a stored viewable copy is
FORMATS = ["JPEG", "PNG"]
#: at most this many codes are reported (a picture covered in codes is not a label)
MAX_CODES = 200

_DIGITS15 = re.compile(r"(?<![\d])(?:\d[ \-/]?){14}\d(?![\d])")


class Refused(ValueError):
    pass


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(digits):
        digit = int(char) * (2 if position % 2 == 1 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def has_imei(text: str) -> bool:
    return any(_luhn(re.sub(r"\D", "", match.group())) for match in _DIGITS15.finditer(text))


class Picture:
    """The stored picture in grey at the sizes asked for (a JPEG decoded straight at a smaller scale)."""

    def __init__(self, data: bytes, max_pixels: int):
        self.data, self.max_pixels = data, max_pixels
        self.size = self._open().size
        self._decoded: dict[int, tuple[Image.Image, float]] = {}

    def _open(self) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(self.data), formats=FORMATS)
        except Image.DecompressionBombError as error:
            raise Refused("too_many_pixels") from error
        except Exception as error:
            raise Refused("unreadable") from error
        if image.width * image.height > self.max_pixels:
            raise Refused("too_many_pixels")
        return image

    def grey(self, side: int | None = None) -> tuple[Image.Image, float]:
        width, height = self.size
        scale = min(1.0, side / max(width, height)) if side else 1.0
        key = round(scale * 10000)
        if key not in self._decoded:
            image = self._open()
            target = (max(1, round(width * scale)), max(1, round(height * scale)))
            try:
                if scale < 1:
                    image.draft("L", target)
                image = image.convert("L")
            except MemoryError as error:  # more than ``MEMORY_BYTES``: a bomb the caller's limit let through
                raise Refused("too_many_pixels") from error
            except Exception as error:
                raise Refused("unreadable") from error
            if scale < 1:
                image = image.resize(target, Image.Resampling.BOX)
            self._decoded[key] = (image, scale)
        return self._decoded[key]


def stages(picture: Picture):
    """(name, [(image, scale, degrees turned), ...]) to decode, cheapest first."""
    grey, scale = picture.grey(MAX_SIDE)
    small = max(grey.size) <= SMALL_SIDE
    larger = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.BICUBIC) if small else None
    yield "upright", [(grey, scale, 0)] + ([(larger, scale * 2, 0)] if larger is not None else [])
    if scale < 1:
        yield "full size", [(*picture.grey(None), 0)]
    base, base_scale = (larger, scale * 2) if larger is not None else (grey, scale)
    yield SHARPENED, [(base.filter(ImageFilter.UnsharpMask(4, 300, 0)), base_scale, 0)]
    for degrees in TURNS:
        yield f"turned {degrees}", [(base.rotate(degrees, expand=True, fillcolor=255), base_scale, degrees)]


SHARPENED = "sharpened"


def decode(data: bytes, max_pixels: int) -> list[tuple[str, str, tuple[int, int, int, int]]]:
    """Every code, stopping once an IMEI was read and the sharpened stage has run too: a
    dual-SIM label whose second code has bars about two pixels wide is often read only
    sharpened, while its first code was read upright (stopping there lost the second)."""
    picture = Picture(data, max_pixels)
    codes: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    found_imei = False
    for name, stage in stages(picture):
        if found_imei and name != SHARPENED:
            continue  # an IMEI is read: only the sharpened stage is still worth its time
        for image, scale, turn in stage:
            for code in zxingcpp.read_barcodes(image):
                if len(codes) < MAX_CODES:
                    codes.setdefault((code.format.name, code.text), box(code, image.size, scale, turn))
        found_imei = found_imei or any(has_imei(text) for _format, text in codes)
        if found_imei and name != "upright" and name != "full size":
            break
    return [(fmt, text, found) for (fmt, text), found in codes.items()]


def box(code, size: tuple[int, int], scale: float, degrees: float) -> tuple[int, int, int, int]:
    """The code's corners, turned back by ``degrees`` around the centre of the turned image
    (``size``) into the picture read at ``scale``, then divided by ``scale``."""
    position = code.position
    corners = [(point.x, point.y) for point in (position.top_left, position.top_right,
                                                 position.bottom_right, position.bottom_left)]
    if degrees:
        corners = unturn(corners, size, degrees)
    xs, ys = [x / scale for x, _ in corners], [y / scale for _, y in corners]
    return (max(0, round(min(xs))), max(0, round(min(ys))), round(max(xs)), round(max(ys)))


def unturn(corners: list[tuple[float, float]], size: tuple[int, int], degrees: float) -> list[tuple[float, float]]:
    """Points of a picture Pillow turned by ``degrees`` (``expand=True``, now ``size``) in the
    unturned picture, whose size follows from the turn."""
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    width, height = size
    # the unturned size (w, h) solves width = w|cos| + h|sin|, height = w|sin| + h|cos|
    det = abs(cos) ** 2 - abs(sin) ** 2
    w = (width * abs(cos) - height * abs(sin)) / det
    h = (height * abs(cos) - width * abs(sin)) / det
    points = []
    for x, y in corners:
        dx, dy = x - width / 2, y - height / 2
        points.append((dx * cos - dy * sin + w / 2, dx * sin + dy * cos + h / 2))
    return points


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    Image.MAX_IMAGE_PIXELS = None  # the limit is the caller's (``max_pixels``), checked from the header
    data = sys.stdin.buffer.read()
    try:
        answer = {"codes": decode(data, int(sys.argv[1]))}
    except Refused as refused:
        answer = {"refused": str(refused)}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
