"""Schemathesis runs against the app in process and finds no gap between the document and the server.

Every phase that needs no links (the schema's examples, the coverage phase's boundaries,
missing fields and unlisted methods, then fuzzing) runs with every check: no 5xx,
documented statuses, headers and bodies, refusal of whatever the schema forbids, a 405
with ``Allow``. A request the schema allows may still be refused for what no schema can
say (an IMEI check digit, a future date, the bytes of a file, the evidence a kind needs);
those refusals are named below and nothing else may refuse a schema-valid request.
"""
from __future__ import annotations

import json

import schemathesis
from jsonschema import Draft202012Validator, FormatChecker
from schemathesis.engine import events, from_schema

from support.api import openapi

from .factories import bearer

#: refusals of schema-valid requests that depend on more than the request's shape
BEYOND_THE_SCHEMA = {"imei_check_digit", "in_future", "count_mismatch", "missing_evidence",
                     "empty", "too_large", "type_not_allowed", "unreadable", "too_many_pixels", "pdf_active_content"}


def _run(app, number: str, token: str) -> tuple[list[str], set[str]]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.seed = 20261205
    schema.config.update(parameters={"number": number}, headers=bearer(token))
    schema.config.generation.update(max_examples=15, deterministic=True, database="none")
    schema.config.phases.stateful.enabled = False
    schema.config.checks.update(excluded_check_names=["ignored_auth"])
    document = openapi.document()
    failures, seen = [], set()
    for event in from_schema(schema).execute():
        if isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"engine error: {getattr(event, 'value', None) or event.exception!r}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        for case_id, checks in event.recorder.checks.items():
            interaction = event.recorder.interactions.get(case_id)
            response = interaction.response if interaction else None
            if response is not None:
                seen.add(f"{event.recorder.label} {response.status_code}")
            for check in checks:
                if check.failure_info is None:
                    continue
                case = event.recorder.cases[case_id].value
                if check.name == "positive_data_acceptance" and (
                        _refused_beyond_the_schema(response) or not _valid_body(document, case)):
                    continue
                failures.append(f"{event.recorder.label} {check.name}: {check.failure_info.failure.title} "
                                f"{response and response.content[:200]!r} sent {case.body!r:.300}")
    return failures, seen


def _valid_body(document: dict, case) -> bool:
    """Whether the body sent is valid by the document (schemathesis also calls "positive" the strings it
    picked up from earlier responses, whatever the schema says of them)."""
    operation = document["paths"][case.operation.path][case.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return True
    schema = next(iter(content.values()))["schema"]
    body = {name: [b"" if isinstance(item, (bytes, bytearray)) or hasattr(item, "data") else item for item in value]
            if isinstance(value, list) else value for name, value in (case.body or {}).items()} \
        if isinstance(case.body, dict) else case.body
    body = json.loads(json.dumps(body, default=lambda item: ""))
    return Draft202012Validator({**schema, "components": document["components"]},
                                format_checker=FormatChecker()).is_valid(body)


def _refused_beyond_the_schema(response) -> bool:
    try:
        return response.json()["error"]["code"] in BEYOND_THE_SCHEMA
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def test_schemathesis_finds_no_mismatch_in_the_claims_api(app, filed):
    failures, seen = _run(app, *filed)
    assert not failures, "\n".join(sorted(set(failures)))
    assert {"POST /api/v1/cases 422", "POST /api/v1/cases 405", "POST /api/v1/cases/{number}/messages 201",
            "POST /api/v1/cases/{number}/evidence 422"} <= seen, sorted(seen)
