"""Evidence for agents: the viewer page, thumbnails, the viewable copy, a PDF's drawn pages,
the audited original download, and corrections of what the analysis read.

Files are only ever served through these signed-in routes, never from static. The
original goes out as an attachment with ``nosniff`` and a sandboxing CSP, so a crafted
upload cannot run in the desk's origin; each download is an audit event. Its file name is
made by the desk (case number, evidence number, the claimant's name reduced to letters and
digits, the extension of the sniffed type), never taken as the claimant sent it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterator
from urllib.parse import quote

import magic
from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session, select

from .. import audit, db, web
from ..evidence.pages import PageUnavailable, page_count, page_png
from ..models import Case, Evidence
from ..storage import storage
from ..web import READERS, WORKERS, agent_actor, origin, roles_required
from . import corrections, extracted
from .blueprint import bp
from .labels import as_context

#: the extension a download gets, from the type sniffed at upload (never the claimant's name)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
              "image/heif": ".heif", "application/pdf": ".pdf"}
#: the longest part of the claimant's file name kept in a download's name
NAME_PART = 60


def evidence_items(session: Session, case: Case) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.created_at, Evidence.id)))


def _get(number: str, evidence_id: int) -> tuple[Case, Evidence]:
    """The evidence item, 404 unless it belongs to that case, and for every file of a case whose
    personal data was erased (a file another case shares is still there, but not for this one)."""
    case = db.session().exec(select(Case).where(Case.number == number.upper())).first()
    evidence = db.session().get(Evidence, evidence_id)
    if case is None or evidence is None or evidence.case_id != case.id or case.erased_at is not None:
        abort(404)
    return case, evidence


def _file(area: str, sha256: str | None, *, disposition: str, filename: str = "evidence") -> Response:
    """The stored file, streamed in pieces (an original may be large); 404 when it is not stored."""
    if not sha256:
        abort(404)
    try:
        pieces = storage().chunks(area, sha256)
    except FileNotFoundError:
        abort(404)
    first = next(pieces, b"")
    response = Response(_streamed(first, pieces), mimetype=magic.from_buffer(first[:8192], mime=True))
    response.headers["Content-Disposition"] = content_disposition(disposition, filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _streamed(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """The first piece (read to sniff the type), then the rest; closes the file however the response ends."""
    try:
        yield first
        yield from rest
    finally:
        rest.close()


def content_disposition(disposition: str, filename: str) -> str:
    """The header with an ASCII ``filename`` any client reads and, when the name is not
    plain ASCII, the exact one as RFC 5987 ``filename*``."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback)
    fallback = re.sub(r"[-_]*\.", ".", re.sub(r"([-_])[-_]+", r"\1", fallback)).strip("-_") or "evidence"
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_name(case: Case, evidence: Evidence) -> str:
    """``RD-2026-000123-evidence-12-receipt.pdf``: the claimant's name without its folders or
    extension, reduced to letters, digits, ``-`` and ``_`` (any script), then the extension
    of the type the bytes were sniffed as."""
    stem = (evidence.original_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join(char if char.isalnum() or char in "-_" else "-" for char in stem)
    stem = re.sub(r"-{2,}", "-", stem).strip("-_")[:NAME_PART].strip("-_") or evidence.kind.value
    return f"{case.number}-evidence-{evidence.id}-{stem}{EXTENSIONS.get(evidence.media_type, '.bin')}"


def _neighbours(items: list[Evidence], evidence: Evidence) -> tuple[Evidence | None, Evidence | None]:
    at = next(index for index, item in enumerate(items) if item.id == evidence.id)
    return (items[at - 1] if at > 0 else None), (items[at + 1] if at + 1 < len(items) else None)


def render_evidence(case: Case, evidence: Evidence, *, errors: dict | None = None, status: int = 200):
    session = db.session()
    items = evidence_items(session, case)
    previous, following = _neighbours(items, evidence)
    page = render_template(
        "review/evidence.html", case=case, item=evidence, items=items, previous=previous, following=following,
        position=items.index(next(item for item in items if item.id == evidence.id)) + 1,
        values=extracted.values_of(session, case, evidence), found_lines=extracted.found_lines(evidence.extracted),
        pages=page_count(evidence), can_correct=current_user.role in WORKERS and case.status in corrections.CORRECTABLE,
        errors=errors or {}, form=request.form if request.method == "POST" else {},
        analysis=extracted.analysis_summary(evidence, 0), **as_context())
    return page, status


@bp.get("/cases/<number>/evidence/<int:evidence_id>")
@roles_required(*READERS)
def evidence_page(number: str, evidence_id: int):
    """The viewer (fit, zoom, pan, rotate) beside the claim and what the analysis read."""
    case, evidence = _get(number, evidence_id)
    return render_evidence(case, evidence)


@bp.get("/cases/<number>/evidence/<int:evidence_id>/analysis")
@roles_required(*READERS)
def evidence_analysis(number: str, evidence_id: int):
    """Where the file's analysis stands, for pages that wait for it ("analysing…")."""
    _case, evidence = _get(number, evidence_id)
    count = extracted.value_counts(db.session(), [evidence]).get(evidence.id, 0)
    summary = extracted.analysis_summary(evidence, count)
    response = jsonify({"status": summary[0] if summary else None, "label": summary[1] if summary else "",
                        "values": count})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/cases/<number>/evidence/<int:evidence_id>/thumbnail")
@roles_required(*READERS)
def evidence_thumbnail(number: str, evidence_id: int):
    _case, evidence = _get(number, evidence_id)
    return _file("thumbnails", evidence.thumbnail_sha256, disposition="inline", filename=f"thumbnail-{evidence.id}")


@bp.get("/cases/<number>/evidence/<int:evidence_id>/viewable")
@roles_required(*READERS)
def evidence_viewable(number: str, evidence_id: int):
    """The re-encoded copy; a PDF has none, its sniffed original is shown in a sandbox."""
    _case, evidence = _get(number, evidence_id)
    if evidence.viewable_sha256:
        return _file("viewable", evidence.viewable_sha256, disposition="inline", filename=f"evidence-{evidence.id}")
    if evidence.media_type != "application/pdf":
        abort(404)
    return _file("originals", evidence.sha256, disposition="inline", filename=f"evidence-{evidence.id}.pdf")


@bp.get("/cases/<number>/evidence/<int:evidence_id>/pages/<int:page>")
@roles_required(*READERS)
def evidence_pdf_page(number: str, evidence_id: int, page: int):
    """One page of a PDF drawn as a PNG for the viewer (cached; drawn with no session open)."""
    _case, evidence = _get(number, evidence_id)
    db.release()
    try:
        png = page_png(storage(), evidence, page)
    except PageUnavailable:
        abort(404)
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = content_disposition("inline", f"evidence-{evidence.id}-page-{page}.png")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/cases/<number>/evidence/<int:evidence_id>/original")
@roles_required(*READERS)
@db.writes
def evidence_original(number: str, evidence_id: int):
    """The bytes exactly as uploaded, as an attachment; audited in the request's transaction."""
    case, evidence = _get(number, evidence_id)
    filename = download_name(case, evidence)
    response = _file("originals", evidence.sha256, disposition="attachment", filename=filename)
    response.mimetype = "application/octet-stream"
    audit.record(db.session(), actor=agent_actor(), action="evidence.original_downloaded",
                 subject=("evidence", evidence.id), case_number=case.number,
                 after={"sha256": evidence.sha256, "kind": evidence.kind.value, "filename": filename},
                 origin=origin())
    return response


def _refused(case: Case, evidence: Evidence, refusal: corrections.CorrectionRefused, field: str):
    """Nothing written; the page again with the message beside the value and what was typed."""
    db.refuse()
    if refusal.status == 409:
        web.keep_refused_attempt(refusal)
    db.session().rollback()
    case, evidence = _get(case.number, evidence.id)
    field = "values" if refusal.code == "case_closed" else field  # no form is shown to keep it beside
    return render_evidence(case, evidence, errors={field: refusal.message}, status=refusal.status)


@bp.post("/cases/<number>/evidence/<int:evidence_id>/values/<int:value_id>")
@roles_required(*WORKERS)
def correct_value(number: str, evidence_id: int, value_id: int):
    """An agent's correction of one value the analysis read."""
    case, evidence = _get(number, evidence_id)
    try:
        corrections.correct(db.session(), case, evidence.id, value_id, request.form.get("value"),
                            seen=request.form.get("seen"), agent_id=current_user.id, actor=agent_actor(),
                            config=current_app.config, origin=origin())
    except LookupError:
        abort(404)
    except corrections.CorrectionRefused as refusal:
        return _refused(case, evidence, refusal, f"value-{value_id}")
    flash(_("Correction saved; the checks ran again."), "success")
    return redirect(url_for("review.evidence_page", number=case.number, evidence_id=evidence.id) + "#values")


@bp.post("/cases/<number>/evidence/<int:evidence_id>/values")
@roles_required(*WORKERS)
def add_value(number: str, evidence_id: int):
    """An IMEI the reader missed, added by an agent."""
    case, evidence = _get(number, evidence_id)
    try:
        corrections.add_imei(db.session(), case, evidence.id, request.form.get("value"), agent_id=current_user.id,
                             actor=agent_actor(), config=current_app.config, origin=origin())
    except LookupError:
        abort(404)
    except corrections.CorrectionRefused as refusal:
        return _refused(case, evidence, refusal, "new-imei")
    flash(_("IMEI added; the checks ran again."), "success")
    return redirect(url_for("review.evidence_page", number=case.number, evidence_id=evidence.id) + "#values")
