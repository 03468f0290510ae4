"""What a reader found in a file, before it is stored as an ``ExtractedValue``.

Every reader (barcodes, the IMEI screen's text, a receipt's text) returns ``Found`` items;
``imeis_in`` finds IMEIs in any text the same way for all of them: 15 digits, possibly in
groups split by spaces, dashes or slashes, with a valid Luhn check digit, not part of a
longer number (an IMEISV's 16 digits are not an IMEI). The check digit is what keeps a
misread digit from becoming a wrong IMEI.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...imei import is_valid
from ...models import ExtractedKind, ExtractedSource

#: 15 digits in groups (``35 693803 564380 9``, ``35-693803-564380-9``), not inside a longer number
_IMEI_LIKE = re.compile(r"(?<![\d])(?:\d[ \-/]?){14}\d(?![\d])")


@dataclass(frozen=True)
class Found:
    """One value read from a file; ``box`` is ``(x0, y0, x1, y1)`` in the viewable image's pixels."""

    kind: ExtractedKind
    value: str
    raw: str
    source: ExtractedSource
    box: tuple[int, int, int, int] | None = None
    page: int | None = None
    confidence: float | None = None


def imeis_in(text: str) -> list[tuple[str, int, int]]:
    """Each valid IMEI in ``text`` as (15 digits, start, end of its span), in order."""
    found = []
    for match in _IMEI_LIKE.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if is_valid(digits):
            found.append((digits, match.start(), match.end()))
    return found
