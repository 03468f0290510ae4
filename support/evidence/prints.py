"""Evidence images sized for a printed report: legible, small, quick to embed.

Evidence photos arrive at phone-camera size (12 megapixels and more). Embedding them
as they are makes a report of tens of megabytes; a small thumbnail makes a receipt
unreadable. So every image upload also gets a **print copy** (``print_copy``): fitted
into ``BOX`` pixels (``DOCUMENT_BOX`` for a receipt, SIM proof or ID) and encoded as a
plain baseline JPEG, which the PDF embeds as it is (DCTDecode): a report reads it from
storage and decodes nothing. The upload pipeline makes it from the picture it has just
decoded anyway, so it costs the upload a resize and a small encode.

Evidence stored without a print copy is prepared while the report renders
(``report_jpeg``): decoded with Pillow's JPEG draft mode (the decoder scales by 1/2, 1/4
or 1/8 while decoding, far cheaper than decoding in full and then resizing).
"""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from ..models import EvidenceKind

#: longest side of a printed photo: a 4000x3000 photo gets there by draft decoding at 1/4 alone
BOX = 1000
#: longest side of a printed document: nearly a page tall (about 240 dpi), a receipt's
#: small print stays readable; a 4000x3000 photo gets there by draft decoding at 1/2 alone
DOCUMENT_BOX = 2000
#: evidence read like a document: kept larger and printed nearly a page tall
DOCUMENTS = frozenset({EvidenceKind.receipt, EvidenceKind.sim_proof, EvidenceKind.id_document})
#: an image at most this much larger than its box is kept as it is: resampling 4032 px
#: phone photos by 1 % would cost more than it saves and blur the print
SLACK = 1.25
#: plain baseline JPEG, no ``optimize`` (an extra Huffman pass for 2-3 % of size)
QUALITY = 75


class NoPreview(ValueError):
    """The stored bytes are not an image Pillow can read."""


def box_for(kind: EvidenceKind) -> int:
    """The longest side, in pixels, of the printed image of evidence of ``kind``."""
    return DOCUMENT_BOX if kind in DOCUMENTS else BOX


def fitted_size(width: int, height: int, box: int = BOX) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` image fitted inside ``box`` x ``box`` (never enlarged)."""
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit(image: Image.Image, box: int = BOX) -> Image.Image:
    """``image`` fitted inside ``box``, or kept as it is up to ``SLACK`` beyond it (then it is
    ``image`` itself, not a copy)."""
    if max(image.size) <= box * SLACK:
        return image
    # reduce() by whole factors first (box averaging), then a cheap bilinear pass
    return image.resize(fitted_size(*image.size, box), Image.Resampling.BILINEAR, reducing_gap=2.0)


def encode(image: Image.Image) -> bytes:
    """A fitted picture as the print copy: plain baseline JPEG, transparency on white."""
    output = io.BytesIO()
    _on_white(image).save(output, "JPEG", quality=QUALITY)
    return output.getvalue()


def print_copy(image: Image.Image, box: int = BOX) -> bytes:
    """``image`` (decoded, upright) as a print copy inside ``box``; ``image`` is left as it was."""
    return encode(fit(image, box))


def report_jpeg(data: bytes, box: int = BOX, max_pixels: int | None = None) -> bytes:
    """``print_copy`` of stored image bytes, draft-decoded; for evidence stored without a print copy.

    Refuses (``NoPreview``) anything that is not an image or that declares more than
    ``max_pixels`` pixels, before decoding it.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if max_pixels and image.width * image.height > max_pixels:
            raise NoPreview("the image is larger than the pixel limit")
        image.draft("RGB", fitted_size(image.width, image.height, box))  # JPEG only; never below the box
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of the decoded pixels
        return print_copy(image, box)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise NoPreview(str(error)) from error


def _on_white(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparent parts become paper white, not black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        paper = Image.new("RGB", image.size, "white")
        paper.paste(image, mask=image.getchannel("A"))
        return paper
    return image if image.mode == "RGB" else image.convert("RGB")
