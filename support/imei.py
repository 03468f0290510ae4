"""IMEI rules: 15 digits whose last is a Luhn check digit.

``parse`` strips spaces, dashes and slashes, and says precisely what is wrong, because
people copy the IMEISV (16 digits) from the settings screen or drop a digit.
"""
from __future__ import annotations

import re
import secrets
from enum import Enum

from flask_babel import lazy_gettext as _l


class ImeiProblem(str, Enum):
    empty = "empty"
    not_digits = "not_digits"
    imeisv = "imeisv"  # 16 digits: the software-version variant, not the IMEI
    too_short = "too_short"
    too_long = "too_long"
    check_digit = "check_digit"


#: what to tell a person for each problem (the web form and the API say the same)
PROBLEMS = {
    ImeiProblem.empty: _l("Please enter the IMEI."),
    ImeiProblem.not_digits: _l("An IMEI has only digits."),
    ImeiProblem.imeisv: _l("This has 16 digits: it is the IMEISV (software version), not the IMEI. The IMEI has 15 digits."),
    ImeiProblem.too_short: _l("This is too short: an IMEI has 15 digits. Check that none is missing."),
    ImeiProblem.too_long: _l("This is too long: an IMEI has 15 digits."),
    ImeiProblem.check_digit: _l("This number is not a valid IMEI: one digit is probably mistyped."),
}
WHERE_TO_FIND = _l("Dial *#06# on the phone, look at the label on the box, or open Settings › About phone.")


def explain(problem: ImeiProblem) -> str:
    """The explanation for one problem, with where to find the real IMEI (in the request's language)."""
    return f"{PROBLEMS[problem]} {WHERE_TO_FIND}"


class InvalidImei(ValueError):
    def __init__(self, problem: ImeiProblem, value: str):
        super().__init__(f"{problem.value}: {value!r}")
        self.problem = problem
        self.value = value


def luhn_digit(first14: str) -> str:
    """The check digit that completes 14 digits into a valid IMEI."""
    total = 0
    for position, char in enumerate(first14):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


def parse(raw: str | None) -> str:
    """The clean 15-digit IMEI, or ``InvalidImei`` naming the problem."""
    value = re.sub(r"[\s\-/.]", "", raw or "")
    if not value:
        raise InvalidImei(ImeiProblem.empty, raw or "")
    if not value.isdigit() or not value.isascii():
        raise InvalidImei(ImeiProblem.not_digits, value)
    if len(value) == 16:
        raise InvalidImei(ImeiProblem.imeisv, value)
    if len(value) < 15:
        raise InvalidImei(ImeiProblem.too_short, value)
    if len(value) > 15:
        raise InvalidImei(ImeiProblem.too_long, value)
    if luhn_digit(value[:14]) != value[14]:
        raise InvalidImei(ImeiProblem.check_digit, value)
    return value


def is_valid(raw: str | None) -> bool:
    try:
        parse(raw)
    except InvalidImei:
        return False
    return True


def generate(tac: str = "86") -> str:
    """A random valid IMEI (demo data and tests); ``tac`` is the leading digits."""
    body = tac + "".join(str(secrets.randbelow(10)) for _ in range(14 - len(tac)))
    return body + luhn_digit(body)
