"""A NUL byte or another control character in any field is a clear 400, never a 500.

PostgreSQL cannot store a NUL in text, so before the guard every form and filter that
reached the database answered 500 there. The fields are gathered from the app itself (its
forms, its templates and the fields its views read), the routes from its URL map.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from support.config import ROOT
from support.models import EvidenceKind, Role

NUL = "x\x00y"


def _form_classes(base=FlaskForm):
    for cls in base.__subclasses__():
        yield cls
        yield from _form_classes(cls)


def field_names(app) -> set[str]:
    names = {name for cls in _form_classes() for name in dir(cls) if isinstance(getattr(cls, name), UnboundField)}
    for template in (ROOT / "templates").rglob("*.html"):
        names |= set(re.findall(r'name="(\w+)"', template.read_text()))
    for source in (ROOT / "support").rglob("*.py"):
        names |= set(re.findall(r'request\.(?:args|form|values)\.get(?:list)?\(\s*"(\w+)"', source.read_text()))
    names |= {f"reason_{kind.value}" for kind in EvidenceKind}
    return names - {"csrf_token"}


def routes(app):
    """(rule, method, URL) for every route but static files, with harmless path values."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {name: 1 if type(rule._converters[name]).__name__ == "IntegerConverter" else "x"
                  for name in rule.arguments}
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule, method, adapter.build(rule.endpoint, values, method=method)


def assert_refused(response, where):
    assert response.status_code == 400, (where, response.status_code)
    if response.is_json:
        assert response.json["error"]["code"] == "control_character", where
    else:
        assert "control character" in response.text, where


def test_every_field_of_every_route(app, client, login):
    login(Role.admin)
    fields = field_names(app)
    assert {"email", "password", "login", "body", "actor", "title", "claimant_name"} <= fields
    poisoned = {name: NUL for name in fields}
    for rule, method, url in routes(app):
        if method == "GET":
            response = client.get(url, query_string=poisoned)
        elif rule.rule.startswith("/api/"):
            response = client.post(url, json=poisoned)
        else:
            response = client.post(url, data=poisoned)
        assert_refused(response, f"{method} {rule.rule}")


def test_path_values_name_nothing(app, client, login):
    login(Role.admin)
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        names = [name for name in rule.arguments if type(rule._converters[name]).__name__ != "IntegerConverter"]
        if rule.endpoint == "static" or not names:  # the API's own lookups answer 404 (tests/api)
            continue
        values = {name: 1 if name not in names else NUL for name in rule.arguments}
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(adapter.build(rule.endpoint, values, method=method), method=method)
        if rule.rule.startswith("/api/"):  # refused before any lookup (no bearer token, no upload)
            assert 400 <= response.status_code < 500 and response.is_json, rule.rule
        else:
            assert response.status_code == 404, rule.rule


@pytest.mark.parametrize("path, fields", [
    ("/agent/sign-in", {"email": "a@example.test", "password": "correct horse battery"}),
    ("/account/sign-in", {"login": "a@example.test", "password": "right-password"}),
    ("/account/reset", {"email": "a@example.test"}),
    ("/track", {"number": "RD-2026-000001", "token": "x" * 20}),
])
def test_each_field_of_the_public_forms(client, path, fields):
    for name in fields:
        for bad in ("\x00", "\x01", "\x1b", "\x7f", "\x85"):
            response = client.post(f"{path}?lang=it", data={**fields, name: f"a{bad}b"})
            assert response.status_code == 400 and "carattere di controllo" in response.text, (name, bad)


def test_a_note_keeps_its_line_breaks_and_a_nul_writes_nothing(app, client, login, make_case):
    from sqlmodel import select

    from support import db
    from support.models import Message

    login(Role.agent)
    case, _token = make_case()
    refused = client.post(f"/cases/{case.number}/messages",
                          data={"body": "first\x00line", "visibility": "internal", "version": case.version})
    assert refused.status_code == 400
    kept = client.post(f"/cases/{case.number}/messages",
                       data={"body": "first line\r\n\tsecond line", "visibility": "internal", "version": case.version})
    assert kept.status_code == 302
    with db.transaction(app) as session:
        bodies = [message.body for message in session.exec(select(Message).where(Message.case_id == case.id))]
    assert [body.replace("\r\n", "\n") for body in bodies] == ["first line\n\tsecond line"]


def test_the_api_refuses_a_nul_inside_json(client):
    response = client.post("/api/v1/cases", json={"claimant_name": "Ann\x00", "kind": "locked_account"})
    assert response.status_code == 400 and response.json["error"] == {
        "code": "control_character", "field": "claimant_name", "message": response.json["error"]["message"]}


def test_headers_with_control_characters_do_not_reach_the_audit_trail(app, client):
    from sqlmodel import select

    from support import db
    from support.models import AuditEvent

    client.post("/agent/sign-in", data={"email": "nobody@example.test", "password": "x"},
                headers={"User-Agent": "probe\x01agent", "X-Request-Id": "id\x7f1"})
    with db.transaction(app) as session:
        event = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.action == "agent.sign_in_failed"
    assert "\x01" not in str(event.user_agent) and "\x7f" not in str(event.request_id)
