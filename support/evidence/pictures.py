"""A PDF's page 1 drawn after the upload, by the worker: its thumbnail, print copy and
perceptual hash, and its text.

The upload request judges a PDF with a cheap parser only (``pdf.inspect_pdf``); drawing a
page with poppler is slow work that a loaded machine made fail inside the request.
``draw_pdf_pictures`` runs once the evidence row has committed: it draws outside any
transaction (``pdf.pdf_pictures``, niced, time-limited), then in one short transaction, with
the row locked, stores the copies (settled by ``written``), sets ``thumbnail_sha256``,
``print_sha256``, ``phash`` and ``extracted["text"]``, indexes the hash for the duplicate
check (``near_duplicates``), records ``evidence.pdf_drawn`` and re-runs the case's checks.
Until then the pages show the file without a thumbnail. A page poppler cannot draw in time
is recorded with its reason (``extracted["drawing"]``) and the same event; agents open the
PDF itself. Idempotent: a file already drawn is left alone.
"""
from __future__ import annotations

from flask import current_app
from sqlmodel import Session, select

from .. import audit, checks, db, erasure, jobs, written
from ..models import Case, Evidence
from ..storage import storage
from . import near_duplicates
from .pdf import PDF_TYPE, DrawFailed, pdf_pictures, pdf_text


@jobs.task(retries=3, retry_delay=30)
def draw_pdf_pictures(evidence_id: int) -> bool | None:
    """Draw one stored PDF's page 1 (in an app context); True when drawn, False when poppler
    could not, None when there is nothing to do."""
    with Session(db.reader(), expire_on_commit=False) as reading_session:
        evidence = reading_session.get(Evidence, evidence_id)
    if evidence is None or evidence.media_type != PDF_TYPE or evidence.thumbnail_sha256:
        return None
    data = storage().open("originals", evidence.sha256)
    try:
        drawn, problem = pdf_pictures(data, evidence.kind), None
    except DrawFailed as error:
        drawn, problem = None, str(error)
    text = pdf_text(data) if drawn else ""
    with db.transaction() as session:
        return record(session, evidence_id, drawn, text, problem)


def record(session: Session, evidence_id: int, drawn: tuple[bytes, bytes, str | None] | None, text: str,
           problem: str | None) -> bool | None:
    case_id = session.exec(select(Evidence.case_id).where(Evidence.id == evidence_id)).first()
    if case_id is None or erasure.is_erased(session, case_id):  # erased meanwhile: nothing more is stored
        return None
    evidence = session.exec(select(Evidence).where(Evidence.id == evidence_id).with_for_update()).first()
    if evidence is None or evidence.thumbnail_sha256:
        return None
    if drawn is None and (evidence.extracted or {}).get("drawing") == problem:
        return False  # the same failure again: nothing new to record
    case = session.get(Case, evidence.case_id)
    if drawn is None:
        evidence.extracted = {**(evidence.extracted or {}), "drawing": problem}
    else:
        files = written.of(session, storage())
        thumbnail, printed, picture_hash = drawn
        evidence.thumbnail_sha256 = files.store("thumbnails", thumbnail)
        evidence.print_sha256 = files.store("print", printed)
        evidence.phash = picture_hash
        extracted = {key: value for key, value in (evidence.extracted or {}).items() if key != "drawing"}
        evidence.extracted = {**extracted, "text": text}
    session.add(evidence)
    session.flush()
    if drawn is not None:
        near_duplicates.index(session, evidence)
    audit.record(session, actor=audit.SYSTEM, action="evidence.pdf_drawn", subject=("evidence", evidence.id),
                 case_number=case.number, reason=problem,
                 after={"thumbnail_sha256": evidence.thumbnail_sha256, "print_sha256": evidence.print_sha256,
                        "phash": evidence.phash})
    checks.recheck(session, case, current_app.config)
    return drawn is not None
