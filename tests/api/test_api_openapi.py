"""The OpenAPI document is valid 3.1, describes every route, and survives fuzzing from it."""
from __future__ import annotations

import json
from collections import Counter

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.api import openapi
from support.api.claims import NewCase
from support.claims import Claim

from .factories import bearer


def test_the_document_is_valid_openapi_3_1_and_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == openapi.document()
    validate(response.json)
    assert response.json["openapi"].startswith("3.1")


def test_the_request_bodies_are_the_models_own_schemas():
    """NewCase is the shared Claim plus its files: evidence is required, at least one file, and $defs are components."""
    schemas = openapi.document()["components"]["schemas"]
    new_case = schemas["NewCase"]
    assert {"consent", "kind", "claimant_name", "contact_email", "account_hint", "imei1", "evidence",
            "evidence_kind"} == set(new_case["required"])
    assert new_case["properties"]["evidence"]["minItems"] == 1
    assert set(Claim.model_fields) < set(new_case["properties"])
    for name in Claim.model_fields:
        assert new_case["properties"][name] == NewCase.model_json_schema()["properties"][name] or name == "kind"
    assert new_case["properties"]["kind"] == {"$ref": "#/components/schemas/CaseKind"}
    assert "$defs" not in new_case and {"CaseKind", "EvidenceKind"} <= set(schemas)
    assert "maxLength" not in json.dumps(new_case), "lengths are counted after trimming, in the patterns"
    assert schemas["NewMessage"]["required"] == ["body"]


def test_every_api_route_is_described(app):
    routes = {(rule.rule.replace("<number>", "{number}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in openapi.document()["paths"].items()
                 for method in item if method != "parameters"}
    assert routes == described


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


FUZZ = hypothesis.settings(max_examples=40, deadline=None, derandomize=True, database=None,
                           suppress_health_check=list(hypothesis.HealthCheck),
                           phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _reach_deeper(case, number: str, token: str) -> None:
    """Make half the examples pass the first checks, so the fuzzer reaches the case and the files.

    They get the real case number and token, and a filing gets a valid name, email, IMEI
    and hint, and one evidence_kind per file; the files stay random bytes.
    """
    if "number" in (case.path_parameters or {}):
        case.path_parameters["number"] = number
        case.headers = {**(case.headers or {}), **bearer(token)}
    if isinstance(case.body, dict) and isinstance(case.body.get("evidence"), list):
        case.body["evidence_kind"] = [("receipt", "box_photo")[index % 2] for index in range(len(case.body["evidence"]))]
        if case.operation.path == "/api/v1/cases":
            for field in ("imei2", "purchase_date", "serial", "model", "shop"):
                case.body.pop(field, None)
            case.body.update(kind="device_unbind", claimant_name="Maria Rossi", contact_email="maria@example.com",
                             imei1="490154203237518", account_hint=["+39 333 1234567"], consent="true")


def test_fuzzing_every_operation_finds_no_5xx_and_only_documented_json(app, api_schema, filed):
    """Valid and malformed input to each operation, with and without a real case and token."""
    number, token = filed
    seen = Counter()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if operation.method != "get" else [])
        for mode in modes:

            @FUZZ
            @hypothesis.given(case=operation.as_strategy(mode), deeper=st.booleans())
            def fuzz(case, deeper):
                if deeper:
                    _reach_deeper(case, number, token)
                response = case.call(app=app)
                case.validate_response(response, checks=CHECKS)
                if response.status_code >= 400:
                    assert set(response.json()["error"]) == {"code", "message", "field"}
                seen[operation.label, response.status_code] += 1

            fuzz()
    print(sorted(seen.items()))
    assert seen["POST /api/v1/cases/{number}/messages", 201], "the fuzzer reached a real case"
    assert seen["POST /api/v1/cases", 415] and seen["POST /api/v1/cases/{number}/evidence", 415], "files were judged"
    # 400 (unreadable JSON) is asserted directly in test_api_tracking; the fuzzer's
    # schema-shaped bodies rarely produce it.
    assert {status for (_label, status) in seen} >= {200, 201, 401, 404, 415, 422}
