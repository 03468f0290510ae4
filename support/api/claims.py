"""Reading an API request's fields into the services' inputs, refusing bad values by field.

Everything the database would refuse (too long, a NUL byte, a lone surrogate) is refused
here first with a 422 naming the field, so bad input never reaches the database as a 500.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from .. import cases, imei
from ..filing import MAX_REPLY_CHARS
from ..extensions import LANGUAGES
from ..models import CaseKind, EvidenceKind, utcnow
from .errors import ApiError, invalid

#: the form value that records the claimant's consent to the processing of their evidence
CONSENT_VALUES = {"true", "yes", "1", "on"}
#: files one request may carry
MAX_FILES = 20
#: account hints one request may carry (account ID, old email, old phone)
MAX_HINTS = 3
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")
#: digits, some of them masked with *, at least one digit
_DIGITS_OR_MASK = re.compile(r"[0-9*]*[0-9][0-9*]*")


def text(value: str | None, field: str, *, limit: int, required: bool = False, multiline: bool = False) -> str | None:
    """The trimmed value, None when empty and optional; refuses control characters and overlong text."""
    value = (value or "").strip()
    if not value:
        if required:
            raise invalid(field, _("This field is required."), "required")
        return None
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(char) in {"Cc", "Cs"} and char not in allowed for char in value):
        raise invalid(field, _("This field contains characters that are not allowed."))
    if len(value) > limit:
        raise invalid(field, _("This field is too long (at most %(limit)d characters).", limit=limit), "too_long")
    return value


def email(value: str | None, field: str) -> str:
    address = text(value, field, limit=254, required=True)
    if not _EMAIL.match(address):
        raise invalid(field, _("This is not an email address."))
    return address


def kind(value: str | None) -> CaseKind:
    try:
        return CaseKind((value or "").strip())
    except ValueError:
        raise invalid("kind", _("Choose one of: %(kinds)s.", kinds=", ".join(k.value for k in CaseKind))) from None


def language(value: str | None, default: str) -> str:
    """``value`` when it is one of the app's languages; ``default`` when absent."""
    value = (value or "").strip().lower()
    if not value:
        return default
    if value not in LANGUAGES:
        raise invalid("language", _("Choose one of: %(languages)s.", languages=", ".join(LANGUAGES)))
    return value


def imei_field(value: str | None, field: str, *, required: bool) -> str | None:
    """The clean IMEI; the message explains the problem and where to find the real one."""
    if not (value or "").strip() and not required:
        return None
    try:
        return imei.parse(value)
    except imei.InvalidImei as error:
        raise invalid(field, imei.explain(error.problem), f"imei_{error.problem.value}") from None


def purchase_date(value: str | None) -> date | None:
    value = text(value, "purchase_date", limit=10)
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value) if _DATE.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise invalid("purchase_date", _("Give the date as YYYY-MM-DD, for example 2024-03-31."))
    if parsed > utcnow().date():
        raise invalid("purchase_date", _("The purchase date cannot be in the future."))
    return parsed


def account_hints(values: list[str]) -> dict[str, str]:
    """``hint_account_id`` / ``hint_email`` / ``hint_phone`` from the repeatable ``account_hint``.

    A value with ``@`` is an (old) email; one starting with ``+`` is a phone number; other
    digits may be either an account ID or a phone number, so they are kept as both and the
    checks try each. Spaces, dashes, dots and brackets are dropped; ``*`` or ``x`` mark
    digits the claimant does not remember ("***1234") and are kept, as ``*``, so nobody
    mistakes a partial value for a whole one.
    """
    values = [value for value in values if (value or "").strip()]
    if not values:
        raise invalid("account_hint", _("Tell us at least one thing about the account: its ID, the old email or the old phone number."), "required")
    if len(values) > MAX_HINTS:
        raise invalid("account_hint", _("Send at most %(count)d account hints.", count=MAX_HINTS))
    hints: dict[str, str] = {}
    for value in values:
        value = text(value, "account_hint", limit=254)
        if "@" in value:
            hints["hint_email"] = value
            continue
        international = value.startswith("+")
        digits = _NUMBER_PUNCTUATION.sub("", value.removeprefix("+")).replace("x", "*").replace("X", "*")
        if not _DIGITS_OR_MASK.fullmatch(digits) or len(digits) > 31:
            raise invalid("account_hint", _("An account hint is an account ID, an email address or a phone number."))
        hints["hint_phone"] = ("+" if international else "") + digits
        if not international:
            hints["hint_account_id"] = digits
    return hints


def claim_from(form: ImmutableMultiDict, *, default_language: str) -> cases.Claim:
    """The validated claim, or a 422 naming the first field at fault; consent is required."""
    if (form.get("consent") or "").strip().lower() not in CONSENT_VALUES:
        raise invalid("consent", _("We need your consent to process the evidence you send (consent=true)."), "consent_required")
    return cases.Claim(
        kind=kind(form.get("kind")),
        claimant_name=text(form.get("claimant_name"), "claimant_name", limit=200, required=True),
        contact_email=email(form.get("contact_email"), "contact_email"),
        language=language(form.get("language"), default_language),
        imei1=imei_field(form.get("imei1"), "imei1", required=True),
        imei2=imei_field(form.get("imei2"), "imei2", required=False),
        serial=text(form.get("serial"), "serial", limit=64),
        model=text(form.get("model"), "model", limit=120),
        purchase_date=purchase_date(form.get("purchase_date")),
        shop=text(form.get("shop"), "shop", limit=200),
        **account_hints(form.getlist("account_hint")),
    )


def evidence_parts(files: ImmutableMultiDict, form: ImmutableMultiDict) -> list[tuple[FileStorage, EvidenceKind]]:
    """The ``evidence`` files (at least one) paired with the ``evidence_kind`` values sent in the same order."""
    uploaded = files.getlist("evidence")
    kinds = form.getlist("evidence_kind")
    if not uploaded:
        raise invalid("evidence", _("Attach at least one file."), "required")
    if len(uploaded) > MAX_FILES:
        raise invalid("evidence", _("Send at most %(count)d files at once.", count=MAX_FILES))
    if len(kinds) != len(uploaded):
        raise invalid("evidence_kind", _("Send one evidence_kind for each evidence file, in the same order."), "count_mismatch")
    parts = []
    for file, value in zip(uploaded, kinds):
        try:
            parts.append((file, EvidenceKind((value or "").strip())))
        except ValueError:
            raise invalid("evidence_kind", _("Choose one of: %(kinds)s.",
                                             kinds=", ".join(k.value for k in EvidenceKind))) from None
    return parts


def message_body(payload: object) -> str:
    """The text of a claimant's message from a JSON body ``{"body": "..."}``."""
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", _("Send a JSON object such as {\"body\": \"...\"}."))
    body = payload.get("body")
    if not isinstance(body, str):
        raise invalid("body", _("This field is required."), "required")
    return text(body, "body", limit=MAX_REPLY_CHARS, required=True, multiline=True)
