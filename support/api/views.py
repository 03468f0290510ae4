"""JSON API v1 for the vendor's own app and website: file a case, follow it, add to it.

Thin views over the filing and evidence services. The case's private token, sent as
``Authorization: Bearer``, is the only credential: the blueprint is exempt from CSRF
because no cookie can act on it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import db, filing
from ..evidence import EvidenceRejected, Inspected, Upload, inspect
from ..extensions import csrf
from ..filing import ClaimantActionRefused, MissingEvidence
from ..web import origin
from . import claims, limits, openapi, presenters
from .auth import case_for_bearer
from .errors import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: HTTP status of each refusal code of the services that is not a plain 422
_REFUSAL_STATUS = {"too_large": 413, "type_not_allowed": 415, "case_erased": 410}


@bp.after_request
def _private(response):
    """Answers carry tokens and personal data: never cached, and they differ per token."""
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cases"'
    return response


def _multipart() -> None:
    """415 unless the body is multipart/form-data (parsing it may raise a JSON 413)."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "multipart_required", _("Send the request as multipart/form-data."))


def _body(model):
    """The multipart body read into ``model`` (a 422 naming the first field at fault)."""
    return claims.read(model, claims.multipart(model, request.form, request.files))


def _uploads(sent: claims.NewEvidence) -> list[Inspected]:
    """The sent files, judged, each with its kind. Call before the request's first query
    when it writes: judging is slow, and the write lock must not wait on it."""
    limit = current_app.config["MAX_FILE_MB"] * 1024 * 1024
    try:
        # one byte over the limit is enough for the pipeline to refuse the file as too large
        return [inspect(Upload(filename=file.filename or "", data=file.stream.read(limit + 1), kind=kind),
                        current_app.config)
                for file, kind in sent.parts()]
    except EvidenceRejected as error:
        raise _refused(error) from None


def _refused(error: EvidenceRejected | ClaimantActionRefused) -> ApiError:
    return ApiError(_REFUSAL_STATUS.get(error.code, 422), error.code, error.message, error.field)


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi.document())


@bp.post("/cases")
@limits.create_per_ip
@limits.create_per_email
def file_case():
    """File a case with its evidence; 201 with the number and the private token (shown once)."""
    _multipart()
    sent = _body(claims.NewCase)
    claim = sent.statement(default_language=str(get_locale() or "en"))
    uploads = _uploads(sent)
    try:
        case, token = filing.file_case_with_evidence(db.session(), claim=claim, uploads=uploads,
                                                     config=current_app.config, origin=origin())
    except EvidenceRejected as error:
        raise _refused(error) from None
    except MissingEvidence as error:
        raise ApiError(422, "missing_evidence", error.message, "evidence") from None
    return (jsonify(number=case.number, token=token, status=case.status.value), 201,
            {"Location": url_for(".show_case", number=case.number)})


@bp.get("/cases/<number>")
def show_case(number: str):
    """The case as its claimant may see it: status, expected response, messages, evidence."""
    session = db.session()
    case = case_for_bearer(session, number)
    return jsonify(presenters.case_view(session, case, current_app.config))


@bp.post("/cases/<number>/evidence")
@limits.uploads_per_ip
@limits.uploads_per_case
def add_evidence(number: str):
    """More evidence from the claimant; 201 with the stored items."""
    _multipart()
    uploads = _uploads(_body(claims.NewEvidence))
    session = db.session()
    case = case_for_bearer(session, number)
    try:
        added = filing.add_claimant_evidence(session, case, uploads, current_app.config, origin())
    except (EvidenceRejected, ClaimantActionRefused) as error:
        raise _refused(error) from None
    return jsonify(evidence=[presenters.evidence_item(item) for item in added]), 201


@bp.post("/cases/<number>/messages")
@limits.uploads_per_ip
@limits.uploads_per_case
def add_message(number: str):
    """A reply from the claimant, as JSON ``{"body": "..."}``; 201 with the message."""
    session = db.session()
    case = case_for_bearer(session, number)
    if not request.is_json:
        raise ApiError(415, "json_required", _("Send the message as application/json."))
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError(400, "invalid_json", _("The body is not valid JSON."))
    try:
        reply = claims.read(claims.NewMessage, claims.json_object(payload))
        message = filing.claimant_reply(session, case, reply.body, origin())
    except ClaimantActionRefused as error:
        raise _refused(error) from None
    return jsonify(presenters.message_item(message)), 201
