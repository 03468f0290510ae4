"""A PDF's page 1 is drawn by the worker after the upload (``evidence.pictures``), never in the
upload request: drawn, hashed and indexed in one transaction; a page poppler cannot draw in
time leaves the file without pictures, with the reason, and nothing half-written."""
from __future__ import annotations

import io

from hostile_pdfs import slow_page
from intake_samples import jpeg
from PIL import Image
from sqlmodel import select

from support import db, evidence
from support.cases import get_by_number
from support.evidence.pictures import draw_pdf_pictures
from support.models import AuditEvent, CaseKind, Evidence, EvidenceKind, JobRun, PictureHashChunk
from support.storage import storage


def scanned_pdf() -> bytes:
    """A scan saved as a PDF: a page with something on it (a blank page has no perceptual hash)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg())).save(out, "PDF", resolution=150)
    return out.getvalue()


def _attach(app, number: str, data: bytes) -> int:
    with app.test_request_context(), db.transaction(app) as session:
        return evidence.attach(session, case=get_by_number(session, number),
                               upload=evidence.Upload("receipt.pdf", data, EvidenceKind.receipt),
                               uploaded_by="claimant", config=app.config).id


def _row(app, evidence_id: int) -> Evidence:
    with app.app_context(), db.transaction(app) as session:
        return session.get(Evidence, evidence_id)


def _events(app, evidence_id: int) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.pdf_drawn",
                                                          AuditEvent.subject_id == str(evidence_id))))


def test_an_uploaded_pdf_is_drawn_by_its_job_once(app, make_case):
    case, _ = make_case(kind=CaseKind.device_unbind)
    item = _attach(app, case.number, scanned_pdf())
    stored = _row(app, item)
    assert (stored.thumbnail_sha256, stored.print_sha256, stored.phash) == (None, None, None)
    assert stored.extracted == {"pages": 1}
    with app.app_context(), db.transaction(app) as session:
        names = {name for name, args in session.exec(select(JobRun.name, JobRun.args)) if args == [item]}
    assert draw_pdf_pictures.name in names, "queued with the upload, for the worker"
    with app.app_context():
        assert draw_pdf_pictures(item) is True
        assert draw_pdf_pictures(item) is None  # idempotent: drawn already, nothing done
    drawn = _row(app, item)
    assert Image.open(io.BytesIO(_open(app, "thumbnails", drawn.thumbnail_sha256))).format == "PNG"
    assert Image.open(io.BytesIO(_open(app, "print", drawn.print_sha256))).format == "JPEG"
    assert drawn.phash and "text" in drawn.extracted and drawn.extracted["pages"] == 1
    with app.app_context(), db.transaction(app) as session:
        assert len(session.exec(select(PictureHashChunk).where(PictureHashChunk.evidence_id == item)).all()) == 4
    [event] = _events(app, item)
    assert event.reason is None and event.after["print_sha256"] == drawn.print_sha256


def _open(app, area: str, sha256: str) -> bytes:
    with app.app_context():
        return storage().open(area, sha256)


def test_a_page_too_slow_to_draw_leaves_the_file_without_pictures_and_says_why(app, make_case, monkeypatch):
    case, _ = make_case(kind=CaseKind.device_unbind)
    item = _attach(app, case.number, slow_page())  # accepted: the upload request does not draw it
    monkeypatch.setattr(evidence.pdf, "PDF_PICTURE_SECONDS", 0.05)  # this page keeps pdftoppm busy far longer
    before = {area: sorted(p.name for p in (storage_root(app) / area).rglob("*") if p.is_file())
              for area in ("thumbnails", "print")}
    with app.app_context():
        assert draw_pdf_pictures(item) is False
        assert draw_pdf_pictures(item) is False  # the same failure again records nothing new
    failed = _row(app, item)
    assert (failed.thumbnail_sha256, failed.print_sha256, failed.phash) == (None, None, None)
    assert "time limit" in failed.extracted["drawing"]
    [event] = _events(app, item)
    assert "time limit" in event.reason
    after = {area: sorted(p.name for p in (storage_root(app) / area).rglob("*") if p.is_file())
             for area in ("thumbnails", "print")}
    assert after == before, "no half-written copies"


def storage_root(app):
    from pathlib import Path

    path = Path(app.config["UPLOAD_DIR"])
    for area in ("thumbnails", "print"):
        (path / area).mkdir(parents=True, exist_ok=True)
    return path
