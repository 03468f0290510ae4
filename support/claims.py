"""What a claimant states when filing: one schema for the web form, the API and its OpenAPI document.

Each field type below carries its validation and its JSON Schema together, so the
document cannot promise what the server refuses nor leave out what it refuses: strings
are trimmed before their length is counted and the ``pattern`` says so; control
characters and lone surrogates (which PostgreSQL cannot store) are refused everywhere;
an email address has one definition for the web and the API. What a pattern cannot say
(an IMEI's check digit, a date not in the future) is refused with a 422 naming the field.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Callable

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import core_schema

from . import cases, imei
from .extensions import LANGUAGES
from .models import CaseKind, utcnow

#: whitespace that is not a control character
SPACES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: what ``str.strip()`` removes (Python's ``\s``), spelt out so the patterns mean the same in every regex dialect
WHITESPACE = r"\t\n\u000b\f\r\u001c-\u001f\u0085" + SPACES
#: control characters (Unicode Cc) and surrogates (Cs): never stored
CONTROL = r"\u0000-\u001f\u007f-\u009f\ud800-\udfff"
#: inside a multi-line text, line breaks and tabs are the claimant's own layout
CONTROL_MULTILINE = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f\ud800-\udfff"
#: what a claimant may put between the digits of an IMEI (imei.parse drops them)
IMEI_SEPARATORS = WHITESPACE + r"\-/."
#: what a claimant may put between the digits of a phone number or account ID
NUMBER_PUNCTUATION = WHITESPACE + r"\-()."
#: the values of a multipart ``consent`` that mean yes
CONSENT_VALUES = ("true", "yes", "1", "on")
#: account hints one filing may carry (account ID, old email, old phone)
MAX_HINTS = 3
#: digits (or * for a forgotten one) in a phone number or account ID
MAX_HINT_DIGITS = 31
_EMAIL_CHAR = f"[^@{WHITESPACE}{CONTROL}]"
_DOMAIN_LABEL = f"[^@.{WHITESPACE}{CONTROL}]+"
EMAIL_SHAPE = re.compile(f"{_EMAIL_CHAR}+@{_DOMAIN_LABEL}(?:\\.{_DOMAIN_LABEL})+")
_HINT_NUMBER = re.compile(f"\\+?[{NUMBER_PUNCTUATION}]*(?:[0-9*xX][{NUMBER_PUNCTUATION}]*){{1,{MAX_HINT_DIGITS}}}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Invalid(ValueError):
    """One field's value refused: a stable code and a message for people (translated when shown)."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Problem:
    """A refused field of a claim: ``index`` is the position in a repeated field such as ``account_hint``."""

    field: str
    code: str
    message: object
    index: int | None = None


REQUIRED = _l("Please fill this in.")


def _required() -> Invalid:
    return Invalid("required", REQUIRED)


class Rule:
    """A field's whole rule: ``check`` validates and cleans, ``schema`` is its JSON Schema.

    ``check(None)`` says what a missing field is refused with, so a required field's
    refusal is the same whether it was left out or sent blank.
    """

    def __init__(self, check: Callable[[Any], Any], schema: dict):
        self.check, self.schema = check, schema

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema, handler):
        return dict(self.schema)


def _at_most(limit: int) -> str:
    """A lookahead: what follows, once trailing whitespace is dropped, is at most ``limit`` characters."""
    return f"(?=[\\s\\S]{{0,{limit - 1}}}[^{WHITESPACE}][{WHITESPACE}]*$)"


def _text_body(limit: int, *, multiline: bool = False) -> str:
    """1..limit characters, none of them a control character, neither end whitespace."""
    inner = CONTROL_MULTILINE if multiline else CONTROL
    edge = f"[^{WHITESPACE}{CONTROL}]"
    return edge if limit == 1 else f"{edge}(?:[^{inner}]{{0,{limit - 2}}}{edge})?"


def _text_pattern(limit: int, *, required: bool, multiline: bool = False) -> str:
    """Leading and trailing whitespace, then 1..limit characters with no control character inside."""
    body = _text_body(limit, multiline=multiline)
    space = f"[{WHITESPACE}]*"
    return f"^{space}{body}{space}$" if required else f"^{space}(?:{body}{space})?$"


def clean_text(value: Any, limit: int, *, required: bool, multiline: bool = False) -> str | None:
    """The trimmed text, None when blank and optional; refuses non-text, control characters, overlong text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _required()
        return None
    if not isinstance(value, str):
        raise _required()
    value = value.strip()
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(char) in {"Cc", "Cs"} and char not in allowed for char in value):
        raise Invalid("invalid", _l("This field contains characters that are not allowed."))
    if len(value) > limit:
        raise Invalid("too_long", _l("This field is too long (at most %(limit)d characters).", limit=limit))
    return value


def Text(limit: int, *, required: bool = False, multiline: bool = False, **schema) -> Rule:
    """Free text, trimmed; ``limit`` counts the characters after trimming."""
    return Rule(lambda value: clean_text(value, limit, required=required, multiline=multiline),
                {"type": "string", **({"minLength": 1} if required else {}),
                 "pattern": _text_pattern(limit, required=required, multiline=multiline),
                 "description": f"At most {limit} characters once leading and trailing whitespace is removed; "
                                f"no control characters{' other than line breaks and tabs' if multiline else ''}.",
                 **schema})


def clean_email(value: Any) -> str:
    """The one definition of an email address for the web form and the API: trimmed, lower case.

    Something before the @, a domain of at least two dot-separated labels, no spaces,
    at most 254 characters.
    """
    address = clean_text(value, 254, required=True)
    if not EMAIL_SHAPE.fullmatch(address):
        raise Invalid("invalid", _l("Please enter a valid email address."))
    return address.translate(_ASCII_LOWER)  # str.lower() can lengthen some letters past the limit


EMAIL = Rule(clean_email, {
    "type": "string", "minLength": 3, "pattern": f"^[{WHITESPACE}]*{_at_most(254)}{EMAIL_SHAPE.pattern}[{WHITESPACE}]*$",
    "description": "An email address (something@domain.tld), at most 254 characters once trimmed; "
                   "stored with ASCII letters in lower case.", "examples": ["maria@example.com"]})


def _imei(required: bool) -> Rule:
    def check(value: Any) -> str | None:
        if not required and (value is None or (isinstance(value, str) and not value.strip())):
            return None
        try:
            return imei.parse(value if isinstance(value, str) else None)
        except imei.InvalidImei as error:
            raise Invalid(f"imei_{error.problem.value}", imei.explain(error.problem)) from None

    digits = f"[{IMEI_SEPARATORS}]*(?:[0-9][{IMEI_SEPARATORS}]*){{15}}"
    pattern = f"^{digits}$" if required else f"^(?:[{WHITESPACE}]*|{digits})$"
    return Rule(check, {"type": "string", **({"minLength": 15} if required else {}), "pattern": pattern,
                        "examples": ["490154203237518"],
                        "description": "15 digits, the last a Luhn check digit (refused with a 422 when it does "
                                       "not match); spaces, dashes, slashes and dots between them are ignored."})


def clean_purchase_date(value: Any) -> date | None:
    """YYYY-MM-DD, a real day, not in the future; blank is no date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            pass
    if parsed is None:
        raise Invalid("invalid", _l("Give the date as YYYY-MM-DD, for example 2024-03-31."))
    if parsed > utcnow().date():
        raise Invalid("in_future", _l("The purchase date cannot be in the future."))
    return parsed


PURCHASE_DATE = Rule(clean_purchase_date, {
    "type": "string", "anyOf": [{"pattern": f"^[{WHITESPACE}]*$"},
                                {"format": "date", "pattern": f"^{_ISO_DATE.pattern}$"}],
    "examples": ["2024-03-31"], "description": "YYYY-MM-DD, not in the future (refused with a 422); blank is none."})


def clean_hint(value: Any) -> str:
    """One account hint, trimmed: an (old) email if it has an @, else a phone number or account ID.

    Digits may be separated by spaces, dashes, dots and brackets; ``*`` or ``x`` stand
    for digits the claimant does not remember ("***1234").
    """
    hint = clean_text(value, 254, required=True)
    if "@" not in hint and not (_HINT_NUMBER.fullmatch(hint) and re.search("[0-9]", hint)):
        raise Invalid("invalid", _l("An account hint is an account ID, an email address or a phone number."))
    return hint


_NUMBER_INSIDE = SPACES + r"\-()."
HINT = Rule(clean_hint, {"type": "string", "minLength": 1, "pattern": (
    f"^[{WHITESPACE}]*(?:(?=[^@]*@){_text_body(254)}"
    f"|{_at_most(254)}(?=[^0-9]*[0-9])\\+?[{_NUMBER_INSIDE}]*(?:[0-9*xX][{_NUMBER_INSIDE}]*){{1,{MAX_HINT_DIGITS}}})"
    f"[{WHITESPACE}]*$")})


def clean_hints(values: Any) -> list[str]:
    if not values:
        raise Invalid("required", _l("Tell us at least one thing about the account: its ID, the old email or the old phone number."))
    if not isinstance(values, list) or len(values) > MAX_HINTS:
        raise Invalid("invalid", _l("Send at most %(count)d account hints.", count=MAX_HINTS))
    return [clean_hint(value) for value in values]


HINTS = Rule(clean_hints, {
    "type": "array", "minItems": 1, "maxItems": MAX_HINTS, "items": HINT.schema,
    "examples": [["+39 333 123 4567", "m.rossi@example.com"]],
    "description": "What the claimant remembers of the account, one value per part: an account ID, an old "
                   "email (contains @) or an old phone number (+ for international); partial values such as "
                   "***1234 are allowed."})


def clean_consent(value: Any) -> str:
    if value not in CONSENT_VALUES:
        raise Invalid("consent_required", _l("We cannot check your case without your consent."))
    return value


CONSENT = Rule(clean_consent, {"type": "string", "enum": list(CONSENT_VALUES),
                               "description": "Consent to the processing of the evidence."})

def clean_language(value: Any) -> str | None:
    """One of the desk's languages; left out, the caller's default applies."""
    if value is None:
        return None
    if value not in LANGUAGES:
        raise Invalid("invalid", _l("Choose one of: %(kinds)s.", kinds=", ".join(LANGUAGES)))
    return value


LANGUAGE = Rule(clean_language, {"type": "string", "enum": list(LANGUAGES),
                                 "description": "Language of the emails; default: the best match of Accept-Language."})


def _absent_is_none(schema: dict, model) -> None:
    """A multipart field is left out, never sent as null: the document shows no null defaults."""
    for definition in schema.get("properties", {}).values():
        definition.pop("default", None)


class Claim(BaseModel):
    """A filing as the claimant states it, validated field by field; ``statement()`` hands it to the services."""

    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=_absent_is_none)

    consent: Annotated[str, CONSENT]
    kind: CaseKind
    claimant_name: Annotated[str, Text(200, required=True, examples=["Maria Rossi"])]
    contact_email: Annotated[str, EMAIL]
    language: Annotated[str | None, LANGUAGE] = None
    account_hint: Annotated[list[str], HINTS]
    imei1: Annotated[str, _imei(required=True)]
    imei2: Annotated[str | None, _imei(required=False)] = None
    serial: Annotated[str | None, Text(64)] = None
    model: Annotated[str | None, Text(120)] = None
    purchase_date: Annotated[date | None, PURCHASE_DATE] = None
    shop: Annotated[str | None, Text(200)] = None

    def hints(self) -> dict[str, str]:
        """``hint_account_id`` / ``hint_email`` / ``hint_phone`` from the hints, in order (a later one wins).

        Digits without a leading + may be an account ID or a phone number, so they are
        kept as both and the checks try each; masked digits are kept as ``*`` so nobody
        mistakes a partial value for a whole one.
        """
        found: dict[str, str] = {}
        for hint in self.account_hint:
            if "@" in hint:
                found["hint_email"] = hint
                continue
            international = hint.startswith("+")
            digits = re.sub(f"[{NUMBER_PUNCTUATION}]", "", hint.removeprefix("+")).replace("x", "*").replace("X", "*")
            found["hint_phone"] = ("+" if international else "") + digits
            if not international:
                found["hint_account_id"] = digits
        return found

    def statement(self, *, default_language: str) -> cases.Claim:
        """What the case services file."""
        return cases.Claim(kind=self.kind, claimant_name=self.claimant_name, contact_email=self.contact_email,
                           language=self.language or default_language, imei1=self.imei1, imei2=self.imei2,
                           serial=self.serial, model=self.model, purchase_date=self.purchase_date, shop=self.shop,
                           **self.hints())


def problems(model: type[BaseModel], error: ValidationError) -> list[Problem]:
    """Each refused field of ``error`` with our code and message, in the model's field order.

    A field left out is refused as its own rule refuses a blank (the IMEI's explanation,
    consent's reason); pydantic's own refusals (an unknown kind, too many items) get the
    desk's wording.
    """
    found: list[Problem] = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else "body"
        index = detail["loc"][1] if len(detail["loc"]) > 1 and isinstance(detail["loc"][1], int) else None
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, Invalid):
            found.append(Problem(field, cause.code, cause.message, index))
        elif detail["type"] == "missing":
            found.append(_missing(model, field))
        elif detail["type"] == "extra_forbidden":
            found.append(Problem(field, "unknown_field", _l("This request takes no field of this name."), index))
        elif detail["type"] in {"enum", "literal_error"}:
            found.append(Problem(field, "invalid", _l("Choose one of: %(kinds)s.", kinds=_choices(model, field)), index))
        else:
            found.append(Problem(field, "invalid", _l("This field contains characters that are not allowed.")
                                 if detail["type"].startswith("string") else REQUIRED, index))
    order = list(model.model_fields)
    return sorted(found, key=lambda problem: order.index(problem.field) if problem.field in order else len(order))


def _missing(model: type[BaseModel], field: str) -> Problem:
    rule = next((item for item in model.model_fields[field].metadata if isinstance(item, Rule)), None)
    try:
        if rule is not None:
            rule.check(None)
    except Invalid as refusal:
        return Problem(field, refusal.code, refusal.message)
    return Problem(field, "required", REQUIRED)


def _choices(model: type[BaseModel], field: str) -> str:
    schema = model.model_json_schema()
    definition = schema["properties"].get(field, {})
    for branch in [definition, *definition.get("anyOf", []), definition.get("items", {})]:
        if "$ref" in branch:
            branch = schema["$defs"][branch["$ref"].rsplit("/", 1)[-1]]
        if "enum" in branch:
            return ", ".join(branch["enum"])
    return ""
