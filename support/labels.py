"""The titles of enum values on pages, in emails and in reports.

The titles themselves live on the enums (``models.TitledEnum.__titles__``); this module
only finds the enum for a bare value read back from JSON (an audit event's ``after``, a
check result) and gives templates the ``label`` filter and function.
"""
from __future__ import annotations

from .models import (AccountStatus, ActionKind, ActionStatus, ActorType, AnalysisStatus, CaseKind, CaseStatus,
                     Channel, CheckCode, CheckResult, EvidenceKind, ExtractedKind, ExtractedSource, JobState, Language,
                     MessageVisibility, Role, TitledEnum)

#: where a bare value is looked up, first match wins (a value two enums share has one title)
ENUMS: tuple[type[TitledEnum], ...] = (
    CaseStatus, CaseKind, EvidenceKind, ActionKind, ActionStatus, CheckCode, CheckResult, AccountStatus, ActorType,
    Role, AnalysisStatus, ExtractedKind, ExtractedSource, MessageVisibility, JobState, Channel, Language,
)


def label(value, enum: type[TitledEnum] | None = None) -> str:
    """The title of an enum member, or of a stored value (of ``enum`` when given); the value
    itself when no enum knows it, and "" for None."""
    if value is None:
        return ""
    if isinstance(value, TitledEnum):
        return value.title
    if enum is not None:
        return enum.title_of(value)
    for candidate in ENUMS:
        if value in candidate.__titles__:
            return candidate.title_of(value)
    return str(value)


def init_app(app) -> None:
    app.add_template_filter(label, "label")
    app.add_template_global(label, "label")
