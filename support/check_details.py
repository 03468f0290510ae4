"""A check's one-line detail in the reader's language, for the case page and the report.

``checks`` keeps each result's message and arguments beside its English line; this turns
them into words when a page or a report is drawn, in whatever language that reader has.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import EvidenceKind

#: what of the account a claimant remembered, as ``checks`` names it
HINTS = {"account ID": _l("account ID"), "email": _l("email"), "phone": _l("phone")}


def check_detail(check: dict) -> str:
    """A check's one-line detail in the current language, from the message and arguments
    ``checks`` kept; the stored English line for a result saved without them."""
    message = check.get("message")
    if not message:
        return check.get("detail", "")
    return _(message, **{key: _argument(key, value) for key, value in (check.get("args") or {}).items()})


def _argument(key: str, value) -> str:
    if key == "kinds":  # requirements, each a list of kinds any one of which satisfies it
        either = " %s " % _("or")
        return ", ".join(either.join(EvidenceKind.title_of(kind) for kind in needed) for needed in value)
    if key == "kind":
        return EvidenceKind.title_of(value)
    if key == "hints":
        return ", ".join(str(HINTS.get(hint, hint)) for hint in value)
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
