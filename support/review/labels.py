"""What review's templates need to name statuses, kinds, evidence kinds and checks.

The names themselves are the enums' titles (``models``); this module only hands them to
templates by stored value, and words for a check's arguments.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import checks
from ..actions import ACTION_FOR_KIND
from ..models import ActionKind, CaseKind, CaseStatus, CheckCode, EvidenceKind, ExtractedKind, ExtractedSource

#: the enums' own titles, by value, for templates that look a stored value up
STATUSES = CaseStatus.__titles__
KINDS = CaseKind.__titles__
EVIDENCE_KINDS = EvidenceKind.__titles__
CHECKS = CheckCode.__titles__
#: what the analysis reads from a file, and how (``ExtractedValue.kind``, ``.source``)
EXTRACTED_KINDS = ExtractedKind.__titles__
SOURCES = ExtractedSource.__titles__
#: what of the account a claimant remembered, as ``checks`` names it
HINTS = {"account ID": _l("account ID"), "email": _l("email"), "phone": _l("phone")}
#: the action an approval leads to, per case kind (executed by the approvals feature)
ACTIONS = {kind.value: ActionKind.__titles__[action.value] for kind, action in ACTION_FOR_KIND.items()}


def translated(labels: dict) -> dict[str, str]:
    """The labels as plain text in the current language (once per page, not once per row)."""
    return {key: str(label) for key, label in labels.items()}


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
        return ", ".join(either.join(str(EVIDENCE_KINDS.get(kind, kind)) for kind in needed) for needed in value)
    if key == "kind":
        return str(EVIDENCE_KINDS.get(value, value))
    if key == "hints":
        return ", ".join(str(HINTS.get(hint, hint)) for hint in value)
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def as_context() -> dict:
    return {"status_labels": STATUSES, "kind_labels": KINDS, "evidence_kinds": EVIDENCE_KINDS,
            "check_labels": CHECKS, "extracted_kinds": EXTRACTED_KINDS, "source_labels": SOURCES, "action_labels": ACTIONS, "translated": translated, "check_detail": check_detail,
            "check_points": checks.points}
