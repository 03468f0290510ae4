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

import math
from typing import Iterator

import zxingcpp
from PIL import Image, ImageFilter

from ...models import ExtractedKind, ExtractedSource
from .found import Found, imeis_in

#: longer side, in pixels, a picture is decoded at first (then at full size if no IMEI was found)
MAX_SIDE = 2000
#: a picture at most this long is also read at twice its size (thin bars of a small label)
SMALL_SIDE = 1200
#: degrees a picture is turned by when nothing was read upright
TURNS = (-12, 12, -24, 24)


def read(picture) -> list[Found]:
    """The codes on an ``analysis.Picture``, IMEIs first, each once, with its box in the stored picture's pixels."""
    codes: dict[tuple, tuple] = {}
    for stage in _passes(picture):
        for image, scale, turn in stage:
            for code in zxingcpp.read_barcodes(image):
                codes.setdefault((code.format.name, code.text), (code, _box(code, image.size, scale, turn)))
        if any(imeis_in(text) for _format, text in codes):
            break
    found: list[Found] = []
    for code, box in codes.values():
        label = f"{code.format.name}: {code.text}"
        found.append(Found(ExtractedKind.barcode, code.text[:255], label, ExtractedSource.barcode, box))
        for imei, _start, _end in imeis_in(code.text):
            found.append(Found(ExtractedKind.imei, imei, label, ExtractedSource.barcode, box))
    return sorted(found, key=lambda item: (item.kind != ExtractedKind.imei, item.box[1], item.box[0], item.value))


def _passes(picture) -> Iterator[list[tuple[Image.Image, float, float]]]:
    """Stages of images to decode, cheapest first, each image as (image, scale, degrees
    turned); ``read`` stops after the first stage that yields an IMEI. A small picture is
    read as is and at twice its size in one stage (a dual-SIM label may give one IMEI to
    each); then at full size, sharpened (blur), and turned by a few angles (a 1D code
    turned more than ~10 degrees is not crossed by one scan line)."""
    grey, scale = picture.grey(MAX_SIDE)
    small = max(grey.size) <= SMALL_SIDE
    larger = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.BICUBIC) if small else None
    yield [(grey, scale, 0)] + ([(larger, scale * 2, 0)] if larger is not None else [])
    if scale < 1:
        yield [(*picture.grey(None), 0)]
    base, base_scale = (larger, scale * 2) if larger is not None else (grey, scale)
    yield [(base.filter(ImageFilter.UnsharpMask(4, 300, 0)), base_scale, 0)]
    for degrees in TURNS:
        yield [(base.rotate(degrees, expand=True, fillcolor=255), base_scale, degrees)]


def _box(code, size: tuple[int, int], scale: float, degrees: float) -> tuple[int, int, int, int]:
    """The code's corners, turned back by ``degrees`` around the centre of the turned image
    (``size``) into the picture read at ``scale``, then divided by ``scale``."""
    position = code.position
    corners = [(point.x, point.y) for point in (position.top_left, position.top_right,
                                                 position.bottom_right, position.bottom_left)]
    if degrees:
        corners = _unturn(corners, size, degrees)
    xs, ys = [x / scale for x, _ in corners], [y / scale for _, y in corners]
    return (max(0, round(min(xs))), max(0, round(min(ys))), round(max(xs)), round(max(ys)))


def _unturn(corners: list[tuple[float, float]], size: tuple[int, int], degrees: float) -> list[tuple[float, float]]:
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
