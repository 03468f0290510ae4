"""The OpenAPI 3.1 document of API v1, served at ``/api/v1/openapi.json``.

Kept true by the tests: real responses are validated against it and every operation is
fuzzed from it (tests/api/test_api_openapi.py).
"""
from __future__ import annotations

from pydantic import BaseModel

from ..extensions import LANGUAGES
from ..models import CaseStatus, VerdictReason
from .claims import REPEATED, NewCase, NewEvidence, NewMessage

_ERROR_CODES = {
    400: "The body could not be read (e.g. invalid JSON), or a field holds a control character.",
    401: "No bearer token was sent.",
    404: "No case matches this number and token (the same answer for either mistake).",
    410: "The case's personal data was erased (`case_erased`): it shows nothing and takes nothing.",
    413: "The request, or one file in it, is larger than allowed.",
    415: "Wrong request content type, or an evidence file of a type that is not accepted.",
    422: "A field is missing or invalid; `field` names it.",
    429: "Too many requests; wait and retry (see the Retry-After header).",
}

_TIME = {"type": ["string", "null"], "format": "date-time"}
REASONS = [reason.value for reason in VerdictReason]
_NUMBER = {"name": "number", "in": "path", "required": True, "description": "The case number, e.g. RD-2026-000123.",
           "schema": {"type": "string", "maxLength": 20}}
#: request bodies: their models validate them, and their JSON Schema is the component
_BODIES: dict[str, type[BaseModel]] = {"NewCase": NewCase, "NewEvidence": NewEvidence, "NewMessage": NewMessage}
_REF = "#/components/schemas/{model}"


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


_SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "field"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable reason, e.g. imei_check_digit."},
                "message": {"type": "string", "description": "For people, in the Accept-Language language."},
                "field": {"type": ["string", "null"], "description": "The request field at fault, if one is."},
            }}},
    },
    "CaseStatus": {"type": "string", "enum": [status.value for status in CaseStatus]},
    "CaseCreated": {
        "type": "object", "required": ["number", "token", "status"], "additionalProperties": False,
        "properties": {
            "number": {"type": "string", "examples": ["RD-2026-000123"]},
            "token": {"type": "string", "description": "The private token; shown once, send it as a bearer token."},
            "status": {"$ref": "#/components/schemas/CaseStatus"},
        },
    },
    "Evidence": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "kind", "sha256", "media_type", "size", "filename", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"$ref": "#/components/schemas/EvidenceKind"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "Of the original bytes."},
            "media_type": {"type": "string", "description": "As read from the bytes."},
            "size": {"type": "integer", "minimum": 0},
            "filename": {"type": "string", "description": "The name it was sent with, for display only."},
            "created_at": _TIME,
        },
    },
    "EvidenceList": {
        "type": "object", "required": ["evidence"], "additionalProperties": False,
        "properties": {"evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}}},
    },
    "Message": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "author", "body", "requested", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "author": {"type": "string", "enum": ["claimant", "agent", "system"]},
            "body": {"type": "string"},
            "requested": {"type": "object", "description": "Evidence kinds an agent asks for, with reasons."},
            "created_at": _TIME,
        },
    },
    "ChecklistItem": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "kind", "evidence_kind", "reason", "reason_text", "note", "replaces_evidence", "status",
                     "answered_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["upload", "question"],
                     "description": "`upload`: send a file of `evidence_kind` (answered by adding evidence of that "
                                    "kind); `question`: answered by the next message."},
            "evidence_kind": {"oneOf": [{"$ref": "#/components/schemas/EvidenceKind"}, {"type": "null"}]},
            "reason": {"type": ["string", "null"], "enum": [*REASONS, None],
                       "description": "Why an earlier file needs a new upload."},
            "reason_text": {"type": ["string", "null"], "description": "The reason in plain words (Accept-Language)."},
            "note": {"type": "string", "description": "The agent's words: what is needed, or the question."},
            "replaces_evidence": {"type": ["integer", "null"], "description": "The evidence id this upload replaces."},
            "status": {"type": "string", "enum": ["open", "answered", "cancelled"]},
            "answered_at": _TIME,
        },
    },
    "Case": {
        "type": "object", "additionalProperties": False,
        "required": ["number", "kind", "status", "status_text", "language", "contact_confirmed", "created_at",
                     "updated_at", "expected_response_hours", "expected_response_by", "missing_evidence",
                     "messages", "evidence", "checklist"],
        "properties": {
            "number": {"type": "string"},
            "kind": {"$ref": "#/components/schemas/CaseKind"},
            "status": {"$ref": "#/components/schemas/CaseStatus"},
            "status_text": {"type": "string", "description": "The status in plain words (Accept-Language)."},
            "language": {"type": "string", "enum": list(LANGUAGES)},
            "contact_confirmed": {"type": "boolean"},
            "created_at": _TIME,
            "updated_at": _TIME,
            "expected_response_hours": {"type": "integer", "description": "The service level for this kind."},
            "expected_response_by": _TIME,
            "missing_evidence": {
                "type": "array", "description": "Required evidence still missing: each entry lists kinds any "
                                                "one of which satisfies it.",
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/EvidenceKind"}}},
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
            "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
            "checklist": {"type": "array", "description": "The latest request for more information, item by item; "
                                                          "empty when nothing was asked.",
                          "items": {"$ref": "#/components/schemas/ChecklistItem"}},
        },
    },
}


def _multipart(schema_name: str) -> dict:
    repeated = {name: {"style": "form", "explode": True} for name in REPEATED if name in _BODIES[schema_name].model_fields}
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"$ref": f"#/components/schemas/{schema_name}"}, "encoding": repeated}}}


def _schemas() -> dict:
    """The hand-written response schemas, and each request body's from its model, with its $defs beside it."""
    schemas = dict(_SCHEMAS)
    for name, model in _BODIES.items():
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


_PATHS = {
    "/api/v1/cases": {"post": {
        "operationId": "fileCase", "summary": "File a recovery case with its evidence",
        "description": "The case starts as `submitted`; it enters the queue when the claimant follows the link "
                       "emailed to `contact_email`. Limited per IP and per contact email.",
        "requestBody": _multipart("NewCase"),
        "responses": {"201": _json("CaseCreated", "Filed."), **_errors(400, 413, 415, 422, 429)},
    }},
    "/api/v1/cases/{number}": {
        "parameters": [_NUMBER],
        "get": {
            "operationId": "getCase", "summary": "The case as its claimant sees it",
            "security": [{"caseToken": []}],
            "responses": {"200": _json("Case", "The case."), **_errors(401, 404, 410, 429)},
        },
    },
    "/api/v1/cases/{number}/evidence": {
        "parameters": [_NUMBER],
        "post": {
            "operationId": "addEvidence", "summary": "Add evidence to the case",
            "security": [{"caseToken": []}],
            "requestBody": _multipart("NewEvidence"),
            "responses": {"201": _json("EvidenceList", "Stored."), **_errors(400, 401, 404, 410, 413, 415, 422, 429)},
        },
    },
    "/api/v1/cases/{number}/messages": {
        "parameters": [_NUMBER],
        "post": {
            "operationId": "addMessage", "summary": "Reply to the agents",
            "security": [{"caseToken": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/NewMessage"}}}},
            "responses": {"201": _json("Message", "Sent."), **_errors(400, 401, 404, 410, 413, 415, 422, 429)},
        },
    },
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document",
        "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
}


def document() -> dict:
    """The whole OpenAPI 3.1 document as a plain dict."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Recovery Desk API", "version": "1.0.0",
                 "description": "File a device-maker account recovery case and follow it. Every error is "
                                "`{\"error\": {\"code\", \"message\", \"field\"}}`."},
        "servers": [{"url": "/"}],
        "paths": _PATHS,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"caseToken": {
                "type": "http", "scheme": "bearer",
                "description": "The private token returned when the case was filed (also emailed)."}},
            "responses": {f"E{code}": _json("Error", description) for code, description in _ERROR_CODES.items()},
        },
    }
