"""Evidence images sized for a printed report: legible, small, quick to make.

Evidence photos arrive at phone-camera size (12 megapixels and more). Embedding them
as they are makes a report of tens of megabytes; a small thumbnail makes a receipt
unreadable. Each image is decoded with Pillow's JPEG draft mode (the decoder scales by
1/2, 1/4 or 1/8 while decoding, far cheaper than decoding in full and then resizing),
fitted into ``BOX`` pixels and re-encoded as a plain baseline JPEG, which the PDF embeds
as it is (DCTDecode): WeasyPrint never decodes or re-encodes it.
"""
from __future__ import annotations

import io
from collections import OrderedDict
from typing import Callable

from PIL import Image, ImageOps, UnidentifiedImageError

#: longest side of an embedded photo: a 4000x3000 photo gets there by draft decoding at
#: 1/4 alone, with no resampling
BOX = 1000
#: longest side of an embedded document (receipt, SIM proof, ID): printed nearly a page
#: tall (about 240 dpi), a receipt's small print stays readable; a 4000x3000 photo gets
#: there by draft decoding at 1/2 alone
DOCUMENT_BOX = 2000
#: a draft-decoded image at most this much larger than its box is kept as it is:
#: resampling 4032 px phone photos by 1 % would cost more than it saves and blur the print
SLACK = 1.25
#: plain baseline JPEG, no ``optimize`` (an extra Huffman pass for 2-3 % of size)
QUALITY = 75
#: downscaled images kept per process; storage is content-addressed, so an entry never goes stale
CACHE_ENTRIES = 64
_cache: OrderedDict[tuple[str, int], tuple[bytes, tuple[int, int]]] = OrderedDict()


class NoPreview(ValueError):
    """The stored bytes are not an image Pillow can read."""


def fitted_size(width: int, height: int, box: int = BOX) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` image fitted inside ``box`` x ``box`` (never enlarged)."""
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def report_jpeg(data: bytes, box: int = BOX, max_pixels: int | None = None) -> tuple[bytes, tuple[int, int]]:
    """The image re-encoded as a JPEG inside ``box`` (or up to ``SLACK`` beyond it, as draft decoding left it);
    returns the bytes and their pixel size.

    Refuses (``NoPreview``) anything that is not an image or that declares more than
    ``max_pixels`` pixels, before decoding it.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if max_pixels and image.width * image.height > max_pixels:
            raise NoPreview("the image is larger than the pixel limit")
        target = fitted_size(image.width, image.height, box)
        image.draft("RGB", target)  # JPEG only: decode at 1/2, 1/4 or 1/8 scale, never below target
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of the decoded pixels
        if max(image.size) > box * SLACK:
            # reduce() by whole factors first (box averaging), then a cheap bilinear pass
            image.thumbnail((box, box), Image.Resampling.BILINEAR, reducing_gap=2.0)
        image = _on_white(image)
        output = io.BytesIO()
        image.save(output, "JPEG", quality=QUALITY)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise NoPreview(str(error)) from error
    return output.getvalue(), image.size


def cached_report_jpeg(sha256: str, load: Callable[[], bytes], box: int = BOX,
                       max_pixels: int | None = None) -> tuple[bytes, tuple[int, int]]:
    """``report_jpeg`` of the bytes whose SHA-256 is ``sha256``, remembered for the next report."""
    key = (sha256, box)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = _cache[key] = report_jpeg(load(), box, max_pixels)
    if len(_cache) > CACHE_ENTRIES:
        _cache.popitem(last=False)
    return result


def _on_white(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparent parts become paper white, not black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        paper = Image.new("RGB", image.size, "white")
        paper.paste(image, mask=image.getchannel("A"))
        return paper
    return image if image.mode == "RGB" else image.convert("RGB")
