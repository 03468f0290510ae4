"""Evidence for agents: thumbnails, the viewable copy, and the audited original download.

Files are only ever served through these signed-in routes, never from static. The
original goes out as an attachment with ``nosniff`` and a sandboxing CSP, so a crafted
upload cannot run in the desk's origin; each download is an audit event.
"""
from __future__ import annotations

import magic
from flask import Response, abort, render_template
from sqlmodel import Session, select

from .. import audit, db
from ..models import Case, Evidence
from ..storage import storage
from ..web import READERS, agent_actor, origin, roles_required
from .blueprint import bp
from .labels import as_context


def evidence_items(session: Session, case: Case) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.created_at, Evidence.id)))


def _get(number: str, evidence_id: int) -> tuple[Case, Evidence]:
    """The evidence item, 404 unless it belongs to that case."""
    case = db.session().exec(select(Case).where(Case.number == number.upper())).first()
    evidence = db.session().get(Evidence, evidence_id)
    if case is None or evidence is None or evidence.case_id != case.id:
        abort(404)
    return case, evidence


def _file(area: str, sha256: str | None, *, disposition: str, filename: str = "evidence") -> Response:
    if not sha256 or not storage().exists(area, sha256):
        abort(404)
    data = storage().open(area, sha256)
    response = Response(data, mimetype=magic.from_buffer(data[:8192], mime=True))
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/cases/<number>/evidence/<int:evidence_id>")
@roles_required(*READERS)
def evidence_page(number: str, evidence_id: int):
    """The full-size viewer (zoom and rotate in the browser)."""
    case, evidence = _get(number, evidence_id)
    return render_template("review/evidence.html", case=case, item=evidence, **as_context())


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


@bp.get("/cases/<number>/evidence/<int:evidence_id>/original")
@roles_required(*READERS)
@db.writes
def evidence_original(number: str, evidence_id: int):
    """The bytes exactly as uploaded, as an attachment; audited in the request's transaction."""
    case, evidence = _get(number, evidence_id)
    response = _file("originals", evidence.sha256, disposition="attachment",
                     filename=f"{case.number}-evidence-{evidence.id}")
    response.mimetype = "application/octet-stream"
    audit.record(db.session(), actor=agent_actor(), action="evidence.original_downloaded",
                 subject=("evidence", evidence.id), case_number=case.number,
                 after={"sha256": evidence.sha256, "kind": evidence.kind.value}, origin=origin())
    return response
