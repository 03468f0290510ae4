"""The claimant's pages without a browser: required marks rendered by the server ("one of"
for alternatives), the validation message saying the same, times as UTC <time> elements."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from support import cases, db


def _marks(page: str, evidence_kind: str) -> dict[str, str]:
    box = re.search(rf'<div class="field upload" data-evidence="{evidence_kind}">(.*?)</div>', page, re.S).group(1)
    return dict(re.findall(r'<small class="mark for-([a-z_]+)">([^<]+)</small>', box))


def test_required_marks_come_from_the_rules_and_say_one_of_for_alternatives(client):
    page = client.get("/recover").text
    assert _marks(page, "id_document") == {"locked_account": "Required: one of Identity document or Purchase receipt"}
    assert _marks(page, "receipt") == {"locked_account": "Required: one of Identity document or Purchase receipt",
                                       "lost_credentials": "Required", "device_unbind": "Required"}
    assert _marks(page, "box_photo") == {"lost_credentials": "Required", "device_unbind": "Required"}
    assert _marks(page, "other") == {} and _marks(page, "sim_proof") == {}
    assert "Locked account: one of these two" in page
    italian = client.get("/recover?lang=it").text
    assert _marks(italian, "id_document")["locked_account"].startswith("Obbligatorio: uno a scelta tra ")
    russian = client.get("/recover?lang=ru").text
    assert _marks(russian, "receipt")["device_unbind"] == "Обязательно"
    # the page's only script is the optional one: the marks are shown by CSS for the chosen kind
    assert re.findall(r"<script[^>]*>", russian) == ['<script src="/static/intake.js" defer>']


def test_the_validation_message_says_one_of_in_the_claimants_language(client, claim_fields):
    response = client.post("/recover?lang=ru", data=claim_fields("locked_account"), content_type="multipart/form-data")
    assert response.status_code == 422 and "одно из: " in response.text
    response = client.post("/recover?lang=en", data=claim_fields("locked_account"), content_type="multipart/form-data")
    assert "Please add: one of Identity document or Purchase receipt." in response.text


def test_times_on_the_case_page_are_utc_time_elements(app, client, make_case):
    case, code = make_case()
    with app.app_context(), db.transaction(app) as session:
        stored = cases.get_by_number(session, case.number)
        stored.sla_due_at = datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)
        session.add(stored)
    client.post("/track", data={"number": case.number, "token": code})
    page = client.get("/track/case").text
    assert re.search(r'<time datetime="2026-01-15T10:00:00Z" class="local-time">[^<]*10:00[^<]* UTC</time>', page)
    assert "(UTC)" not in page and "localtime.js" in page
