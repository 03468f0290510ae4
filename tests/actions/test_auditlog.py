"""The audit log page (filters, keyset pages), the JSON Lines export and the case timeline."""
from __future__ import annotations

import json

import pytest

from support import audit
from support.auditlog import views as auditlog_views
from support.models import Role

ACTOR = audit.Actor("cli", "7", "Tess Tester")


@pytest.fixture
def trail(tx):
    with tx() as session:
        for number in range(5):
            audit.record(session, actor=ACTOR, action="test.thing", subject=("case", number),
                         case_number="RD-2026-000777" if number % 2 else None, after={"n": number})


@pytest.mark.parametrize("role, status", [(Role.auditor, 200), (Role.admin, 200), (Role.supervisor, 200),
                                          (Role.agent, 403)])
def test_who_reads_the_audit_log(client, login, role, status):
    login(role)
    assert client.get("/audit").status_code == status


def test_filters_and_keyset_pages(client, login, trail, monkeypatch):
    login(Role.auditor)
    monkeypatch.setattr(auditlog_views, "PAGE_SIZE", 2)
    first = client.get("/audit?action=test.")
    assert first.text.count("<code>test.thing</code>") == 2 and 'id="older"' in first.text
    older = first.text.split('id="older"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older)
    assert second.text.count("<code>test.thing</code>") == 2
    assert client.get("/audit?case=rd-2026-000777&action=test").text.count("<code>test.thing</code>") == 2
    assert client.get("/audit?actor=tess&action=test").text.count("<code>test.thing</code>") == 2  # page size
    assert client.get("/audit?actor=nobody").text.count("<code>test.thing</code>") == 0
    assert client.get("/audit?since=2000-01-01&until=2000-01-02&action=test").text.count("test.thing") == 0
    assert "Use a date like" in client.get("/audit?since=yesterday").text


def test_export_is_json_lines_that_rehash(client, login, trail):
    login(Role.auditor)
    response = client.get("/audit/export.jsonl?action=test.thing")
    assert response.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [row["after"]["n"] for row in rows] == [0, 1, 2, 3, 4]
    assert all(len(row["hash"]) == 64 and row["prev_hash"] for row in rows)


def test_case_page_shows_the_actions_panel_and_timeline(client, login, make_case):
    from support.models import CaseKind, CaseStatus

    login(Role.supervisor)
    case, _token = make_case(kind=CaseKind.locked_account, status=CaseStatus.approved)
    page = client.get(f"/cases/{case.number}")
    assert page.status_code == 200
    assert 'id="actions"' in page.text and 'id="request-action"' in page.text
    assert 'id="timeline"' in page.text and "filed the case" in page.text
