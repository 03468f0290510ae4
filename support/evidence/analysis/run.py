"""One analysis run: read a stored file outside any transaction, then record what was read.

``analyse_evidence`` is what the worker runs for each new file (and ``flask evidence
analyse`` for older ones). It reads the evidence row in a reading session, decodes the
stored copy with no transaction open (seconds of CPU), then in one short write transaction,
with the evidence row locked, replaces the values nobody corrected, sets
``analysis_status``, ``analysed_at`` and ``is_screenshot``, records ``evidence.analysed``
and re-runs the case's checks. A run is idempotent: the same file read the same way
changes no row and records nothing; a corrected value survives every re-run, and a reading
equal to one an agent corrected is not added again. A file that cannot be read is marked
``failed`` (its earlier values are kept) and its checks say so; nothing is lost.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlmodel import Session, select

from ... import audit, checks, db, erasure, jobs
from ...models import (AnalysisStatus, Case, Evidence, ExtractedKind, ExtractedSource, ExtractedValue, JobRun,
                       JobState, utcnow)
from ...storage import storage
from . import ReadRefused, Reading, read, wanted
from .found import Found


@jobs.task(retries=3, retry_delay=30)
def analyse_evidence(evidence_id: int) -> AnalysisStatus | None:
    """Analyse one stored file (in an app context); returns its new status, None if it is gone
    or not analysed at all."""
    with Session(db.reader(), expire_on_commit=False) as reading_session:
        evidence = reading_session.get(Evidence, evidence_id)
    if evidence is None or not wanted(evidence.kind, evidence.media_type):
        return None
    try:
        reading, problem = _read(evidence), None
    except ReadRefused as error:
        reading, problem = None, str(error)
    except Exception as error:  # a reader's tool failed, or the file is gone: the file stays "failed", never "analysing…"
        reading, problem = None, f"{type(error).__name__}: {error}"[:500]
    with db.transaction() as session:
        return record(session, evidence_id, reading, problem)


def _read(evidence: Evidence) -> Reading:
    """The CPU part: the viewable copy of a picture, or the original of a PDF."""
    area, sha256 = ("viewable", evidence.viewable_sha256) if evidence.viewable_sha256 else ("originals", evidence.sha256)
    data = storage().open(area, sha256)
    return read(evidence.kind, evidence.media_type, data, exif=evidence.exif,
                max_pixels=current_app.config["MAX_IMAGE_PIXELS"])


def record(session: Session, evidence_id: int, reading: Reading | None, problem: str | None = None) -> AnalysisStatus | None:
    """Store one run's result in the caller's transaction (``reading`` None: the file could not be read).

    Nothing is stored for a case whose data was erased meanwhile; the case is locked before
    its evidence, in the order the erasure locks them.
    """
    case_id = session.exec(select(Evidence.case_id).where(Evidence.id == evidence_id)).first()
    if case_id is None or erasure.is_erased(session, case_id):
        return None
    evidence = session.exec(select(Evidence).where(Evidence.id == evidence_id).with_for_update()).first()
    if evidence is None:
        return None
    kept = list(session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence_id)
                             .order_by(ExtractedValue.id)))
    before = {"status": evidence.analysis_status and evidence.analysis_status.value, "values": len(kept),
              "is_screenshot": evidence.is_screenshot, "text_chars": len(evidence.read_text)}
    if reading is None:
        status, changed_values = AnalysisStatus.failed, False
    else:
        status, changed_values = AnalysisStatus.done, _replace(session, evidence_id, kept, reading.values)
        evidence.is_screenshot = reading.is_screenshot
        if reading.text != evidence.read_text:  # the database's search index follows the column
            evidence.read_text, changed_values = reading.text, True
    if not changed_values and evidence.analysis_status == status and before["is_screenshot"] == evidence.is_screenshot:
        return status
    evidence.analysis_status, evidence.analysed_at = status, utcnow()
    session.add(evidence)
    session.flush()
    case = session.get(Case, evidence.case_id)
    values = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence_id)).all()
    audit.record(session, actor=audit.SYSTEM, action="evidence.analysed", subject=("evidence", evidence.id),
                 case_number=case.number, before=before, reason=problem,
                 after={"status": status.value, "values": len(values), "is_screenshot": evidence.is_screenshot,
               "text_chars": len(evidence.read_text),
                        "imeis": sorted({value.current for value in values if value.kind.value == "imei"})})
    checks.recheck(session, case, current_app.config)
    return status


def _replace(session: Session, evidence_id: int, kept: list[ExtractedValue], found: list[Found]) -> bool:
    """Put ``found`` in place of the uncorrected values; False when they are already the same."""
    corrected = Counter(_key(value) for value in kept if value.corrected_value is not None)
    new = []
    for item in found:
        if corrected[_key(item)]:
            corrected[_key(item)] -= 1  # an agent corrected this very reading: their row stands for it
        else:
            new.append(item)
    old = [value for value in kept if value.corrected_value is None]
    if sorted(map(_key, old), key=repr) == sorted(map(_key, new), key=repr):
        return False
    for value in old:
        session.delete(value)
    session.flush()
    for item in new:
        session.add(ExtractedValue(evidence_id=evidence_id, kind=ExtractedKind(_plain(item.kind)), value=item.value,
                                   raw=item.raw, source=ExtractedSource(_plain(item.source)),
                                   box=list(item.box) if item.box else None, page=item.page,
                                   confidence=item.confidence))
    session.flush()
    return True


def _key(value: ExtractedValue | Found) -> tuple:
    """What makes two readings the same reading (a stored row or a reader's ``Found``)."""
    return (_plain(value.kind), value.value, value.raw, _plain(value.source), tuple(value.box) if value.box else None,
            value.page, None if value.confidence is None else round(value.confidence, 3))


def _plain(member) -> str:
    """An enum member or its value (readers may give either) as the value."""
    return getattr(member, "value", member)


#: at most this many files are queued again by one sweep (the next sweep takes the rest)
REQUEUE_BATCH = 500


def requeue_unanalysed(session: Session, *, older_than: timedelta, now=None) -> list[int]:
    """Queue ``analyse_evidence`` again, after ``session`` commits, for each file still
    ``pending`` after ``older_than`` that no job stands for (its row pruned or never
    written, e.g. evidence stored by an older version); returns their ids. A file whose job
    is queued, running, retrying or failed is left to that job (``jobs.rescue``) or to an
    admin's retry."""
    cutoff = (now or utcnow()) - older_than
    waiting = list(session.exec(select(Evidence.id).where(Evidence.analysis_status == AnalysisStatus.pending,
                                                          Evidence.created_at < cutoff)
                                .order_by(Evidence.id).limit(REQUEUE_BATCH)))
    if not waiting:
        return []
    alive = (JobState.queued, JobState.running, JobState.retrying, JobState.failed)
    covered = {tuple(args)[0] for args in session.exec(
        select(JobRun.args).where(JobRun.name == analyse_evidence.name, JobRun.state.in_(alive))) if args}
    orphans = [evidence_id for evidence_id in waiting if evidence_id not in covered]
    for evidence_id in orphans:
        jobs.enqueue_after_commit(session, analyse_evidence, evidence_id)
    return orphans


@jobs.periodic(jobs.crontab(minute="*/5"))
def requeue_stalled_analysis() -> int:
    """Every five minutes, on the worker: files waiting for an analysis no job will do get one."""
    minutes = current_app.config["JOBS_LOST_QUEUED_MINUTES"]
    with db.transaction() as session:
        return len(requeue_unanalysed(session, older_than=timedelta(minutes=minutes)))
