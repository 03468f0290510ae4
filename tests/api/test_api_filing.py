"""Filing through the API: a case of each kind, its evidence on disk, its email, its link."""
from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from support import cases, db
from support.models import Case, CaseKind, CaseStatus, Evidence

from .factories import REQUIRED_FILES, bearer, conforms, outbox

SUBJECT_WORDS = {"en": "Confirm", "ru": "Подтвердите", "it": "Conferma"}


@pytest.mark.parametrize("kind, language", [
    (CaseKind.device_unbind, "en"),
    (CaseKind.lost_credentials, "ru"),
    (CaseKind.locked_account, "it"),
])
def test_a_case_of_each_kind_is_filed_with_evidence_email_and_link(app, client, file_case, kind, language):
    response = file_case(kind, language=language, account_hint=["12345678", "old.mail@example.test"])

    assert response.status_code == 201, response.json
    conforms(response, "/api/v1/cases", "post")
    number, token = response.json["number"], response.json["token"]
    assert re.fullmatch(r"RD-\d{4}-\d{6}", number)
    assert response.json["status"] == "submitted"
    assert response.headers["Location"] == f"/api/v1/cases/{number}"

    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        assert (case.kind, case.language, case.contact_email) == (kind, language, "maria@example.test")
        assert case.token_hash == cases.hash_token(token)
        assert (case.hint_account_id, case.hint_phone, case.hint_email) == ("12345678", "12345678", "old.mail@example.test")
        assert case.consent_at is not None
        evidence = session.exec(select(Evidence).where(Evidence.case_id == case.id)).all()
    assert sorted(item.kind.value for item in evidence) == sorted(REQUIRED_FILES[kind])
    for item in evidence:
        original = Path(app.config["UPLOAD_DIR"]) / "originals" / item.sha256[:2] / item.sha256
        assert original.is_file(), "stored under its SHA-256, not the claimant's file name"
        assert item.original_name.endswith(".bin")

    [eml] = outbox(app)
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "maria@example.test"
    assert SUBJECT_WORDS[language] in message["Subject"]
    link = urlsplit(re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0))  # confirm first

    confirmed = client.get(link.path + (f"?{link.query}" if link.query else ""))
    assert confirmed.status_code in (200, 302)
    shown = client.get(f"/api/v1/cases/{number}", headers=bearer(token))
    assert shown.json["status"] == "new"
    assert shown.json["contact_confirmed"] is True


def test_account_hints_map_to_phone_email_or_account(app, file_case):
    response = file_case(account_hint=["+39 (333) 123-4567", "j***@example.test"])
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, response.json["number"])
    assert (case.hint_phone, case.hint_email, case.hint_account_id) == ("+393331234567", "j***@example.test", None)
    response = file_case(account_hint="***1234", contact_email="other@example.test")
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, response.json["number"])
    assert (case.hint_phone, case.hint_account_id) == ("***1234", "***1234")


def test_language_defaults_to_accept_language(app, file_case):
    response = file_case(language=None, headers={"Accept-Language": "it-IT,it;q=0.9"})
    with app.app_context(), db.transaction(app) as session:
        assert cases.get_by_number(session, response.json["number"]).language == "it"


def test_the_token_is_never_stored(app, filed):
    number, token = filed
    with app.app_context(), db.transaction(app) as session:
        row = session.exec(select(Case).where(Case.number == number)).one()
        assert token not in str(row.model_dump())
        assert row.status == CaseStatus.submitted
