"""Storing: ``store_files`` (a staged upload, outside any transaction), ``attach`` (the files and
the ``Evidence`` row, settled by ``written`` when the transaction ends), ``add_print_copy``,
``new_thumbnail`` and ``replace_thumbnail`` (older evidence gets today's thumbnail)."""
from __future__ import annotations

import io

from PIL import Image

from sqlmodel import Session

from .. import audit, jobs, written
from . import near_duplicates
from ..models import AnalysisStatus, Case, Evidence
from ..storage import Storage, storage
from .analysis import wanted
from .analysis.run import analyse_evidence
from .images import encode_copy
from .inspection import inspect
from .pdf import PDF_TYPE, DrawFailed, pdf_pictures
from .pictures import draw_pdf_pictures
from .upload import EvidenceRejected, Inspected, Upload, thumbnail


def store_files(inspected: Inspected, *, files: Storage) -> None:
    """Store the original and its copies outside any transaction (a staged upload, kept on purpose)."""
    for area, data in areas(inspected):
        files.store(area, data)


def areas(inspected: Inspected) -> list[tuple[str, bytes]]:
    """The copies to store (a PDF has only its original until the worker draws its page 1)."""
    copies = [("originals", inspected.upload.data), ("thumbnails", inspected.thumbnail), ("print", inspected.printed),
              ("viewable", inspected.viewable)]
    return [(area, data) for area, data in copies if data is not None]


def attach(
    session: Session,
    *,
    case: Case,
    upload: Upload | Inspected,
    uploaded_by: str,
    config,
    origin: audit.Origin | None = None,
    actor: audit.Actor | None = None,
) -> Evidence:
    """Store and record one file on ``case``; audited as ``evidence.added``.

    Pass an ``Inspected`` upload: inspecting is slow and belongs before the write
    transaction (an ``Upload`` is inspected here, for commands and demo data). Refuses
    with ``EvidenceRejected``. The files are settled when the session's transaction ends
    (``written``): kept if a committed row references them, removed otherwise.
    ``actor`` defaults to the case's claimant.
    """
    inspected = upload if isinstance(upload, Inspected) else inspect(upload, config)
    actor = actor or audit.Actor("claimant", case.number, case.claimant_name)
    stored = written.of(session, storage())
    sha256s = {area: stored.store(area, data) for area, data in areas(inspected)}
    with session.begin_nested():
        evidence = Evidence(
            case_id=case.id, kind=inspected.upload.kind, sha256=sha256s["originals"],
            viewable_sha256=sha256s.get("viewable"), thumbnail_sha256=sha256s.get("thumbnails"),
            print_sha256=sha256s.get("print"),
            media_type=inspected.media_type, size=len(inspected.upload.data), width=inspected.width,
            height=inspected.height, original_name=inspected.display_name, phash=inspected.phash,
            exif=inspected.exif, extracted=inspected.extracted, uploaded_by=uploaded_by,
        )
        if wanted(evidence.kind, evidence.media_type):
            evidence.analysis_status = AnalysisStatus.pending
        session.add(evidence)
        session.flush()
        near_duplicates.index(session, evidence)
        if evidence.media_type == PDF_TYPE:  # page 1 drawn by the worker once this commits
            jobs.enqueue_after_commit(session, draw_pdf_pictures, evidence.id)
        if evidence.analysis_status == AnalysisStatus.pending:  # read by the worker once this commits
            jobs.enqueue_after_commit(session, analyse_evidence, evidence.id)
        audit.record(session, actor=actor, action="evidence.added", subject=("evidence", evidence.id),
                     case_number=case.number,
                     after={"kind": evidence.kind.value, "sha256": evidence.sha256,
                            "media_type": evidence.media_type, "size": evidence.size,
                            "name": evidence.original_name},
                     origin=origin)
    return evidence


def add_print_copy(session: Session, evidence: Evidence, *, config, actor: audit.Actor) -> bool:
    """Give evidence stored before print copies existed the one a fresh upload gets (its
    original inspected again); audited as ``evidence.print_copy_added``. False when the
    original is gone or no longer passes inspection (the report decodes what is left)."""
    files = storage()
    if evidence.print_sha256 or not files.exists("originals", evidence.sha256):
        return False
    upload = Upload(evidence.original_name, files.open("originals", evidence.sha256), evidence.kind)
    try:
        printed = inspect(upload, config).printed
        if printed is None:  # a PDF: its page 1 drawn here, as the worker draws it
            printed = pdf_pictures(upload.data, upload.kind)[1]
    except (EvidenceRejected, DrawFailed):
        return False
    evidence.print_sha256 = written.of(session, files).store("print", printed)
    with session.begin_nested():
        session.add(evidence)
        audit.record(session, actor=actor, action="evidence.print_copy_added", subject=("evidence", evidence.id),
                     case_number=session.get(Case, evidence.case_id).number,
                     after={"print_sha256": evidence.print_sha256})
    return True


def new_thumbnail(files: Storage, evidence: Evidence) -> bytes | None:
    """Today's thumbnail (the whole picture, letterboxed) drawn from the stored print copy
    (a PDF's first page), else the viewable copy; None when neither is stored. Slow: call it
    with no transaction open."""
    area, sha256 = ("print", evidence.print_sha256) if evidence.print_sha256 else ("viewable", evidence.viewable_sha256)
    if not sha256 or not files.exists(area, sha256):
        return None
    with Image.open(io.BytesIO(files.open(area, sha256)), formats=["JPEG", "PNG"]) as picture:
        picture.draft("RGB", (640, 640))
        return encode_copy(thumbnail(picture), lossless=False)


def replace_thumbnail(session: Session, evidence_id: int, data: bytes, *, actor: audit.Actor) -> bool:
    """Point the evidence at the thumbnail ``data`` (``evidence.thumbnail_redrawn``); False
    when it already shows those bytes or the evidence is gone. The old file is left to the
    storage purge once nothing names it."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        return False
    sha256 = written.of(session, storage()).store("thumbnails", data)
    if sha256 == evidence.thumbnail_sha256:
        return False
    before, evidence.thumbnail_sha256 = evidence.thumbnail_sha256, sha256
    session.add(evidence)
    audit.record(session, actor=actor, action="evidence.thumbnail_redrawn", subject=("evidence", evidence.id),
                 case_number=session.get(Case, evidence.case_id).number,
                 before={"thumbnail_sha256": before}, after={"thumbnail_sha256": sha256})
    return True
