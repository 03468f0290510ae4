"""Agents correct a value the analysis misread, or add an IMEI it missed.

A correction changes what the checks read (``ExtractedValue.current``), so it is a change
to the case's evidence like an upload: the evidence row is locked first (``SELECT … FOR
UPDATE``, as ``analysis.run.record`` does, so a correction and a re-analysis of the same
file take turns), the value is set, ``evidence.value_corrected`` (or
``evidence.value_added``) records before and after, and the case's checks run again, all
in the caller's transaction. The agent names the value they saw (``seen``): when another
agent or a re-analysis changed it meanwhile, nothing is written and they see it again
(409). A case no longer worked (rejected, executed, closed) keeps the evidence it was
decided on (409). A re-analysis keeps every corrected or added value (``run._replace``).
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlmodel import Session, select

from .. import audit, checks, imei
from ..models import Case, Evidence, ExtractedKind, ExtractedSource, ExtractedValue, utcnow
from ..refusals import Refused

#: cases whose evidence can still be corrected: those still worked (their checks follow changes)
CORRECTABLE = checks.RECHECKED
#: the longest value an agent may type (the column's size)
MAX_LENGTH = 255
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CorrectionRefused(Refused):
    """A correction not made; ``message`` is in the agent's language."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code, message, "value")
        self.status = status


def normalise(kind: ExtractedKind, text: str | None) -> str:
    """The value as stored for its kind (an IMEI as 15 digits, a date as ``YYYY-MM-DD``);
    refuses with ``CorrectionRefused`` what that kind cannot be."""
    text = " ".join((text or "").split())
    if not text:
        raise CorrectionRefused("empty", _("Write the correct value."))
    if kind == ExtractedKind.imei:
        try:
            return imei.parse(text)
        except imei.InvalidImei as error:
            raise CorrectionRefused("invalid_imei", str(imei.PROBLEMS[error.problem])) from error
    if kind == ExtractedKind.date:
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError as error:
            raise CorrectionRefused("invalid_date", _("Write the date as YYYY-MM-DD, for example 2026-03-31.")) from error
    if len(text) > MAX_LENGTH or not text.isprintable():
        raise CorrectionRefused("invalid_value", _("Write at most %(count)s printable characters.", count=MAX_LENGTH))
    return text


def locked_evidence(session: Session, case: Case, evidence_id: int) -> Evidence:
    """The case's evidence row, locked for this transaction; ``LookupError`` for another case's."""
    evidence = session.exec(select(Evidence).where(Evidence.id == evidence_id).with_for_update()).first()
    if evidence is None or evidence.case_id != case.id:
        raise LookupError(evidence_id)
    return evidence


def _still_worked(case: Case) -> None:
    if case.status not in CORRECTABLE:
        raise CorrectionRefused("case_closed", _("This case is no longer worked, so its evidence stays as it was decided on."),
                                status=409)


def correct(session: Session, case: Case, evidence_id: int, value_id: int, text: str | None, *, seen: str | None,
            agent_id: int, actor: audit.Actor, config, origin: audit.Origin | None = None) -> ExtractedValue:
    """Set the agent's correction of one value; ``LookupError`` when the value is not on this
    case's evidence. Correcting to what is already there changes nothing."""
    _still_worked(case)
    evidence = locked_evidence(session, case, evidence_id)
    value = session.get(ExtractedValue, value_id)
    if value is None or value.evidence_id != evidence.id:
        raise LookupError(value_id)
    session.refresh(value)  # as committed now that the evidence is ours, not as first read
    if seen is not None and seen != value.current:
        raise CorrectionRefused("stale", _("This value changed while you were looking: it now reads “%(value)s”. Check it and correct it again if needed.",
                                           value=value.current), status=409)
    new = normalise(value.kind, text)
    if new == value.current:
        return value
    before = {"value_id": value.id, "kind": value.kind.value, "value": value.current, "read": value.value}
    value.corrected_value, value.corrected_by_id, value.corrected_at = new, agent_id, utcnow()
    session.add(value)
    session.flush()
    audit.record(session, actor=actor, action="evidence.value_corrected", subject=("evidence", evidence.id),
                 case_number=case.number, before=before,
                 after={"value_id": value.id, "kind": value.kind.value, "value": new}, origin=origin)
    checks.recheck(session, case, config, origin)
    return value


def add_imei(session: Session, case: Case, evidence_id: int, text: str | None, *, agent_id: int,
             actor: audit.Actor, config, origin: audit.Origin | None = None) -> ExtractedValue:
    """Add an IMEI the reader missed, as the agent's value (``source`` agent, no box): the
    checks count it like a corrected reading, and a re-analysis keeps it."""
    _still_worked(case)
    evidence = locked_evidence(session, case, evidence_id)
    new = normalise(ExtractedKind.imei, text)
    listed = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence.id,
                                                       ExtractedValue.kind == ExtractedKind.imei)).all()
    if any(row.current == new for row in listed):
        raise CorrectionRefused("already_listed", _("This IMEI is already listed for this file."))
    value = ExtractedValue(evidence_id=evidence.id, kind=ExtractedKind.imei, value=new, raw="",
                           source=ExtractedSource.agent, corrected_value=new, corrected_by_id=agent_id,
                           corrected_at=utcnow())
    session.add(value)
    session.flush()
    audit.record(session, actor=actor, action="evidence.value_added", subject=("evidence", evidence.id),
                 case_number=case.number, after={"value_id": value.id, "kind": value.kind.value, "value": new},
                 origin=origin)
    checks.recheck(session, case, config, origin)
    return value
