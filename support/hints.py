"""What a claimant remembers of an account, compared with the account itself.

The intake form says that part of a value helps, so a hint is often a fragment: the last
digits of a phone, an email as a provider shows it masked, the start of an account ID.
Each comparison answers one of four ``Match`` values:

- ``full``: the hint is the whole value, and it is the account's;
- ``partial``: the hint is a fragment and the account's value fits it (a weaker pass);
- ``contradicts``: the account's value cannot be what the hint describes (a fail);
- ``not_enough``: the hint is too short or unreadable to tell, or the account has no such
  value: neither a pass nor a fail.

Rules
-----
**Masks.** ``*``, ``•``, ``●``, ``·``, ``…`` (and ``x``, ``X``, ``×``, ``?`` in numbers) mark
what the claimant does not remember. A run of them stands for any number of characters,
so ``+7 916 *** 45 67`` and ``+7 916 * 4567`` say the same. Fragments are compared without
regular expressions (no input can make a comparison slow).

**Phone.** Spaces, dashes, dots, slashes and brackets are ignored. A hint starting with
``+`` or ``00`` gives the number from its country code and is compared from the start;
any other hint is the end of the number (``4567``, ``916 123-45-67``), optionally after a
national trunk prefix ``0`` or ``8`` (``8 916 123 45 67`` for +7 916 123 45 67). It is
``full`` when it has no mask and covers the whole national number (the number less its
country code). At least ``MIN_KNOWN_DIGITS`` known digits besides the country code are
needed; fewer is ``not_enough`` (``***``, ``+7 ***``, ``67``).

**Email.** Compared without regard to case (and Unicode width). The domain must be
written out and equal (a different domain contradicts; a masked one is ``not_enough``),
and at least one character before ``@`` must be known: ``a•••@mail.ru`` and
``A***@Mail.ru`` fit ``alice@mail.ru``; ``***@mail.ru`` is ``not_enough``;
``b***@mail.ru`` contradicts.

**Account ID.** Digits and masks; ``1234****`` is a beginning, ``****5678`` an end,
``12**78`` both. A value without masks is the whole ID or its beginning. At least
``MIN_KNOWN_DIGITS`` known digits, unless it is the whole ID.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from itertools import accumulate
from operator import or_

from .models import Account, Case

#: the fewest known digits of a phone or account ID fragment worth comparing
MIN_KNOWN_DIGITS = 4
MASK = "*"
_EMAIL_MASKS = "*•●·…"
_NUMBER_MASKS = _EMAIL_MASKS + "xX×?"
_NUMBER_SEPARATORS = re.compile(r"[\s\-‐‑–—()./]")
#: country calling codes of one and of two digits (ITU-T E.164); every other is three
_SHORT_COUNTRY_CODES = {"1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43",
                        "44", "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58",
                        "60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92",
                        "93", "94", "95", "98"}


class Match(enum.Enum):
    """How one hint compares with the account, strongest first."""

    full = "full"
    partial = "partial"
    not_enough = "not_enough"
    contradicts = "contradicts"


def compare(case: Case, account: Account) -> dict[str, Match]:
    """Each hint the claimant gave, by the name ``checks`` uses for it, and how it compares."""
    found = {}
    if case.hint_account_id:
        found["account ID"] = account_id(case.hint_account_id, account.id)
    if case.hint_email:
        found["email"] = email(case.hint_email, account.email)
    if case.hint_phone:
        found["phone"] = phone(case.hint_phone, account.phone)
    return found


def phone(hint: str, number: str | None) -> Match:
    """A phone hint against the account's number (``+`` and digits, as the directory keeps it)."""
    text = _NUMBER_SEPARATORS.sub("", _unmasked(hint, _NUMBER_MASKS))
    international = text.startswith(("+", "00"))
    pattern = _number_pattern(text[1:] if text.startswith("+") else text[2:] if international else text)
    if pattern is None or not number:
        return Match.not_enough
    digits = re.sub(r"\D", "", number)
    country = _country_code(digits) if number.startswith("+") else ""
    if international:
        known = _known(pattern) - (len(country) if country and pattern.startswith(country) else 0)
        whole = bool(country) and MASK not in pattern and pattern == digits
        return _judge(known, whole, _fits(pattern, digits) if country else _fits(MASK + pattern, digits))
    national = digits[len(country):]
    trunk = pattern[1:] if pattern[:1] in {"0", "8"} else ""
    if trunk and _fits(trunk, national):  # "8 916 …": the national number from its start, after a trunk prefix
        pattern, fits = trunk, True
    else:
        fits = _fits(MASK + pattern, digits)
    return _judge(_known(pattern), MASK not in pattern and _known(pattern) >= len(national), fits)


def email(hint: str, address: str | None) -> Match:
    """An email hint against the account's address: the domain whole, the rest maybe masked."""
    hint = "".join(_unmasked(hint, _EMAIL_MASKS).split())
    if hint.count("@") != 1 or not address:
        return Match.not_enough
    local, domain = hint.split("@")
    actual_local, _, actual_domain = _unmasked(address.strip(), "").rpartition("@")
    if not domain or MASK in domain:
        return Match.not_enough
    if domain != actual_domain:
        return Match.contradicts
    known = _known(local, letters=True)
    if known and MASK not in local:
        return Match.full if local == actual_local else Match.contradicts
    return _judge(known, False, _fits(_collapsed(local), actual_local), least=1)


def account_id(hint: str, value: int | str | None) -> Match:
    """An account-ID hint: the whole ID, its beginning, or digits placed by masks."""
    pattern = _number_pattern(_NUMBER_SEPARATORS.sub("", _unmasked(hint, _NUMBER_MASKS)))
    if pattern is None or value is None:
        return Match.not_enough
    actual = str(value)
    if pattern == actual:
        return Match.full
    return _judge(_known(pattern), False, _fits(pattern if MASK in pattern else pattern + MASK, actual))


# -- the pieces ------------------------------------------------------------------------


def _judge(known: int, whole: bool, fits: bool, least: int = MIN_KNOWN_DIGITS) -> Match:
    if known < least:
        return Match.not_enough
    if not fits:
        return Match.contradicts
    return Match.full if whole else Match.partial


def _unmasked(text: str, masks: str) -> str:
    """Lower-case, width-folded text with every mask character written as ``*``
    (masks are replaced before folding, so "…" stays a mask rather than three dots)."""
    for mask in masks:
        text = text.replace(mask, MASK)
    return unicodedata.normalize("NFKC", text).casefold()


def _collapsed(pattern: str) -> str:
    return re.sub(r"\*+", MASK, pattern)


def _number_pattern(text: str) -> str | None:
    """Digits and ``*`` (one per run of masks); None when the text holds anything else."""
    if not re.fullmatch(r"[0-9*]+", text, flags=re.ASCII):
        return None
    return _collapsed(text)


def _known(pattern: str, letters: bool = False) -> int:
    return sum(1 for char in pattern if char != MASK and (letters or char.isdigit()))


def _country_code(digits: str) -> str:
    for length in (1, 2):
        if digits[:length] in _SHORT_COUNTRY_CODES:
            return digits[:length]
    return digits[:3]


def _fits(pattern: str, text: str) -> bool:
    """Whether ``text`` fits ``pattern``, each ``*`` standing for any run of characters,
    in time proportional to their lengths' product (no backtracking)."""
    reachable = [True] + [False] * len(text)  # which prefixes of text the pattern so far covers
    for token in pattern:
        if token == MASK:
            reachable = list(accumulate(reachable, or_))
        else:
            reachable = [False] + [before and char == token for before, char in zip(reachable, text)]
    return reachable[-1]
