"""Words for what the evidence analysis read, as the internal report prints it.

The claimant's copy prints none of this: a barcode or a receipt can carry another phone's
IMEI, which is another person's data (principle 10), and the claimant has the file itself.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ANALYSIS_STATUS = {
    "pending": _l("analysing…"),
    "done": _l("read"),
    "failed": _l("could not be read"),
}

EXTRACTED_KIND = {
    "imei": _l("IMEI"),
    "serial": _l("Serial number"),
    "date": _l("Date"),
    "shop": _l("Shop"),
    "model": _l("Model"),
    "total": _l("Total"),
    "barcode": _l("Barcode"),
}

EXTRACTED_SOURCE = {
    "barcode": _l("barcode"),
    "ocr": _l("text recognition (OCR)"),
    "pdf_text": _l("the PDF's text"),
}


def word(words: dict, value) -> str:
    """The translated word for an enum member or its value; the value itself when unknown."""
    key = getattr(value, "value", value)
    return "" if key is None else str(words.get(key, key))
