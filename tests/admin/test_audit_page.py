"""/audit: an unreadable filter hides every row (and exports nothing); the page says how far
the chain was last verified, by `flask audit verify` or by the worker's scheduled job."""
from __future__ import annotations

import pytest

from support import audit, witness
from support.models import Role

ACTOR = audit.Actor("cli", "7", "Tess Tester")


@pytest.fixture
def trail(tx):
    with tx() as session:
        for number in range(3):
            audit.record(session, actor=ACTOR, action="test.thing", subject=("case", number), after={"n": number})


@pytest.mark.parametrize("query", ["since=yesterday", "until=2026-02-31", "action=no.such.action",
                                   "action=test%25", "action=TEST.thing", "action=test.thing&since=31/01/2026"])
def test_an_unreadable_filter_shows_its_error_and_no_rows(client, login, trail, query):
    login(Role.auditor)
    page = client.get(f"/audit?{query}")
    assert page.status_code == 422
    assert 'id="filter-error"' in page.text and "test.thing" not in page.text.split('id="filter-error"')[1]
    assert 'id="audit-events"' not in page.text and 'id="export"' not in page.text
    assert client.get(f"/audit/export.jsonl?{query}").status_code == 422  # not everything, unfiltered


def test_readable_filters_still_show_rows(client, login, trail):
    login(Role.auditor)
    page = client.get("/audit?action=test.&since=2000-01-01")
    assert page.status_code == 200 and page.text.count("<code>test.thing</code>") == 3
    assert 'id="filter-error"' not in page.text and 'id="export"' in page.text
    assert client.get("/audit?action=test_thing").status_code == 422  # "_" is not a wildcard


def test_the_page_shows_the_latest_verification(app, client, login, runner, trail, tx):
    login(Role.auditor)
    assert "The chain has never been verified." in client.get("/audit").text
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with tx() as session:
        head = audit.head(session).seq
        kept = audit.latest_verification(session)
    assert (kept.ok, kept.seq, kept.by) == (True, head, "cli")
    line = client.get("/audit").text.split('id="chain-verified"')[1].split("</p>")[0]
    assert f"Chain verified up to #{head} at {kept.at.strftime('%Y-%m-%d %H:%M')} UTC." in line

    client.get("/audit?action=test.")  # more events since (sign-in, reads) do not change what was verified
    app.extensions["audit_policy"].minutes = 0  # as if AUDIT_CHECKPOINT_MINUTES had passed
    with app.app_context():
        witness.checkpoint_when_due()  # the worker's scheduled job, run here
    with tx() as session:
        by_worker = audit.latest_verification(session)
        assert (by_worker.ok, by_worker.by) == (True, "worker") and by_worker.seq >= head


def test_a_failed_verification_is_shown_as_such(app, client, login, tx):
    login(Role.admin)
    with tx() as session:
        audit.record_verification(session, audit.Verdict(False, 4, "ab" * 32, 5, "hash does not match its stored text"),
                                  by="worker")
    line = client.get("/audit").text.split('id="chain-verified"')[1].split("</p>")[0]
    assert "Chain verification FAILED at #5" in line and "hash does not match" in line


def test_the_verification_line_speaks_russian(client, login):
    login(Role.auditor)
    page = client.get("/audit?lang=ru")
    assert "Цепочка ещё ни разу не проверялась." in page.text
