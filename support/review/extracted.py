"""What the analysis read from a file, as the agent's pages show it beside the claim.

``values_of`` gives each value with whether it agrees with what the claimant says
(``agreement``: an IMEI or date read from a file either matches the claim or differs from
it), ``analysis_summary`` the one line the case page shows per file ("analysing…", "3
values", "could not be read"), ``found_lines`` what was found in the file at upload in
words (never a raw dict).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlmodel import Session, select

from .. import checks
from ..models import AnalysisStatus, Case, Evidence, ExtractedKind, ExtractedValue

MATCH, DIFFER = "match", "differ"


@dataclass
class Shown:
    """One extracted value on the evidence page."""

    row: ExtractedValue
    agreement: str | None  # MATCH, DIFFER, or None when the claim says nothing to compare with


def values_of(session: Session, case: Case, evidence: Evidence) -> list[Shown]:
    rows = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence.id)
                        .order_by(ExtractedValue.page, ExtractedValue.id)).all()
    return [Shown(row, agreement(row.kind, row.current, case)) for row in rows]


def agreement(kind: ExtractedKind, value: str, case: Case) -> str | None:
    """Whether a value read from a file matches the claim (None: nothing claimed to compare)."""
    if kind == ExtractedKind.imei:
        return MATCH if value in {case.imei1, case.imei2} else DIFFER
    if kind == ExtractedKind.date:
        if case.purchase_date is None:
            return None
        try:
            read = date.fromisoformat(value)
        except ValueError:
            return DIFFER
        return MATCH if abs((read - case.purchase_date).days) <= checks.RECEIPT_DATE_DAYS else DIFFER
    claimed = {ExtractedKind.serial: case.serial, ExtractedKind.model: case.model, ExtractedKind.shop: case.shop}.get(kind)
    if not claimed:
        return None
    said, read = _plain(claimed), _plain(value)
    return MATCH if said and read and (said in read or read in said) else DIFFER


def _plain(text: str) -> str:
    return "".join(char for char in text.casefold() if char.isalnum())


def value_counts(session: Session, evidence: list[Evidence]) -> dict[int, int]:
    ids = [item.id for item in evidence]
    if not ids:
        return {}
    rows = session.exec(select(ExtractedValue.evidence_id, func.count()).where(ExtractedValue.evidence_id.in_(ids))
                        .group_by(ExtractedValue.evidence_id))
    return dict(rows.all())


def analysis_summary(item: Evidence, count: int) -> tuple[str, str] | None:
    """(state, words) for the file's analysis; None when it is not analysed at all."""
    if item.analysis_status is None:
        return None
    if item.analysis_status == AnalysisStatus.pending:
        return "pending", _("analysing…")
    if item.analysis_status == AnalysisStatus.failed:
        return "failed", _("could not be read")
    if not count:
        return "done", _("nothing read")
    return "done", ngettext("%(num)s value read", "%(num)s values read", count)


def found_lines(extracted: dict | None) -> list[str]:
    """What upload found in the file, in words: "1 page, no text layer"."""
    extracted = extracted or {}
    lines = []
    pages = extracted.get("pages")
    if isinstance(pages, int) and "text" not in extracted:  # the worker has not drawn page 1 yet
        lines.append(ngettext("%(num)s page", "%(num)s pages", pages))
    elif isinstance(pages, int):
        text = extracted.get("text") or ""
        layer = (_("no text layer") if not text.strip()
                 else ngettext("a text layer of %(num)s character", "a text layer of %(num)s characters", len(text)))
        lines.append("%s, %s" % (ngettext("%(num)s page", "%(num)s pages", pages), layer))
    return lines
