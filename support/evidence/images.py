"""Pictures: opened with a pixel limit, turned upright, re-encoded onto a fresh canvas (no
metadata survives), hashed; their camera metadata read before it is stripped."""
from __future__ import annotations

import hashlib
import io
import math
import statistics
import threading
import warnings
from contextlib import contextmanager

import pillow_heif
from flask_babel import gettext as _
from PIL import Image, ImageFile, ImageFilter, ImageOps

from . import prints
from .upload import EvidenceRejected, Inspected, Upload, display_name, incomplete, thumbnail, unreadable


pillow_heif.register_heif_opener()


#: media types accepted, as libmagic names them, and the Pillow format each must open as
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF", "image/heif": "HEIF"}


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


def inspect_image(upload: Upload, media_type: str, config) -> Inspected:
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
        canvas = fresh_canvas(upright)
        viewable = encode_copy(canvas, lossless=media_type == "image/png")
        printable = prints.fit(canvas, prints.box_for(upload.kind))
        thumbnail_bytes = encode_copy(thumbnail(printable), lossless=False)
        printed = prints.encode(printable)
        picture_hash = phash(canvas)
    except EvidenceRejected:
        raise
    except Image.DecompressionBombError as error:
        raise too_many from error
    except (OSError, EOFError) as error:
        raise (incomplete(upload) if "truncated" in str(error) or isinstance(error, EOFError) else unreadable(upload)) from error
    except Exception as error:  # Pillow raises many types for hostile bytes; all mean unreadable
        raise unreadable(upload) from error
    return Inspected(upload=upload, media_type=media_type, sha256=hashlib.sha256(upload.data).hexdigest(),
                     viewable=viewable, thumbnail=thumbnail_bytes, printed=printed, width=canvas.width,
                     height=canvas.height, phash=picture_hash, exif=exif)


def fresh_canvas(image: Image.Image) -> Image.Image:
    """Only the pixels, on a new image: no metadata, profile, comment or trailing bytes survive."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    canvas = Image.new(mode, image.size, "white")
    canvas.paste(image.convert(mode))
    return canvas


def encode_copy(image: Image.Image, *, lossless: bool) -> bytes:
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
