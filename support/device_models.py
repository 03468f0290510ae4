"""When each device model first went on sale: a receipt for one dated earlier is not plausible.

A small table kept by hand (the directory knows a device's model name, not its release).
Dates are the first day of sale anywhere, from the maker's announcement; a model missing
here is not judged. Keys are the names receipts and the directory print.
"""
from __future__ import annotations

import re
from datetime import date

RELEASED: dict[str, date] = {
    # the demo directory's models (support/demo.py)
    "Redmi Note 12 Pro": date(2022, 10, 31),
    "Redmi 12C": date(2023, 1, 6),
    "Mi Band 8": date(2023, 4, 21),
    "Redmi Note 13": date(2023, 9, 26),
    "Xiaomi 13T": date(2023, 9, 26),
    "Xiaomi 14": date(2023, 10, 31),
    "POCO X6 Pro": date(2024, 1, 11),
    # common models seen on receipts
    "Xiaomi 15": date(2024, 10, 31),
    "Redmi Note 14": date(2024, 9, 26),
    "iPhone 15": date(2023, 9, 22),
    "iPhone 16": date(2024, 9, 20),
    "iPhone 17": date(2025, 9, 19),
    "Galaxy S24": date(2024, 1, 31),
    "Galaxy S25": date(2025, 2, 7),
    "Pixel 8": date(2023, 10, 12),
    "Pixel 9": date(2024, 8, 22),
}


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


_BY_KEY = {_key(name): day for name, day in RELEASED.items()}


def released(model: str | None) -> date | None:
    """The first day ``model`` could be bought, or None when the table does not know it."""
    return _BY_KEY.get(_key(model or ""))
