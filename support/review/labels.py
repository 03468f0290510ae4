"""What review's templates need to name statuses, kinds, evidence kinds and checks.

The names themselves are the enums' titles (``models``); this module only hands them to
templates by stored value (a check's detail line comes from ``check_details``).
"""
from __future__ import annotations

from .. import checks
from ..actions import ACTION_FOR_KIND
from ..check_details import check_detail
from ..i18n import current_translations
from ..models import ActionKind, CaseKind, CaseStatus, CheckCode, EvidenceKind, ExtractedKind, ExtractedSource

#: the enums' own titles, by value, for templates that look a stored value up
STATUSES = CaseStatus.__titles__
KINDS = CaseKind.__titles__
EVIDENCE_KINDS = EvidenceKind.__titles__
CHECKS = CheckCode.__titles__
#: what the analysis reads from a file, and how (``ExtractedValue.kind``, ``.source``)
EXTRACTED_KINDS = ExtractedKind.__titles__
SOURCES = ExtractedSource.__titles__
#: the action an approval leads to, per case kind (executed by the approvals feature)
ACTIONS = {kind.value: ActionKind.__titles__[action.value] for kind, action in ACTION_FOR_KIND.items()}


#: (this module's labels, a catalogue) -> the labels as text. Both live as long as the
#: process, so the text can too: pages ask for their labels on every request.
_TRANSLATED: dict[tuple[int, int], dict[str, str]] = {}
_KEPT = {id(labels) for labels in (STATUSES, KINDS, EVIDENCE_KINDS, CHECKS, EXTRACTED_KINDS, SOURCES, ACTIONS)}


def translated(labels: dict) -> dict[str, str]:
    """The labels as plain text in the current language (once per page, not once per row)."""
    if id(labels) not in _KEPT:
        return {value: str(label) for value, label in labels.items()}
    key = (id(labels), id(current_translations()))
    if key not in _TRANSLATED:
        _TRANSLATED[key] = {value: str(label) for value, label in labels.items()}
    return _TRANSLATED[key]


def as_context() -> dict:
    return {"status_labels": STATUSES, "kind_labels": KINDS, "evidence_kinds": EVIDENCE_KINDS,
            "check_labels": CHECKS, "extracted_kinds": EXTRACTED_KINDS, "source_labels": SOURCES, "action_labels": ACTIONS, "translated": translated, "check_detail": check_detail,
            "check_points": checks.points}
