"""The claimant's private code: easy to read aloud, copy from paper and type on a phone.

A code is 40 symbols of an alphabet without look-alikes: Crockford's base32 minus 0 and 1,
so no 0/O, 1/I/L (and no U) can be confused. 40 symbols of 30 give 196 bits, more than the
192 random bits of the earlier ``token_urlsafe(24)`` codes. It is shown in groups of four
(``ABCD-EFGH-…``) and stored only as the SHA-256 of its canonical form (upper case, no
separators), so a typed code matches in any case, with dashes, spaces or neither; a
typed O, I or L, which a code never contains, is read as the digit it looks like and so
simply fails like any other wrong symbol.

Codes issued before this alphabet are hashed as they were given; ``candidates`` also
tries the typed text as it is, so those claimants keep their access.
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 40
GROUP = 4
#: what a person may type between the groups
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]+")


def new_code() -> str:
    """A fresh code in canonical form (what is hashed and put in links)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def canonical(typed: str) -> str:
    """The typed code without separators, in upper case; look-alikes mapped as Crockford does."""
    return _SEPARATORS.sub("", typed or "").upper().replace("O", "0").replace("I", "1").replace("L", "1")


def grouped(code: str) -> str:
    """``ABCD-EFGH-…`` for a code of this alphabet; any other (older) code unchanged."""
    text = canonical(code)
    if len(text) != LENGTH or set(text) - set(ALPHABET):
        return code
    return "-".join(text[start:start + GROUP] for start in range(0, LENGTH, GROUP))


def candidates(typed: str) -> list[str]:
    """The forms of a typed code to compare with the stored hash: the canonical form, and
    the text as typed (trimmed) for codes issued before this alphabet (case-sensitive)."""
    as_typed = (typed or "").strip()
    return [canonical(as_typed), as_typed]
