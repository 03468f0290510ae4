"""Issue 14's acceptance: an erasure leaves no personal value of the claimant in the database
(every text column of every table), the stored files, the outbox or the PDF report, and
``audit verify`` passes before and after. A file another case still uses stays."""
from __future__ import annotations

from pathlib import Path

from erasure_scan import (CLAIMANT, NEEDLES, case_row, database_text, evidence_files, evidence_of, naming, outbox_text,
                          stored)
from erasure_samples import pdf_text

from sqlalchemy import text

from support import db
from support.models import Role


def _verify(runner) -> None:
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def _sign_in_failures(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sign_in_failure")).scalar_one()


def _report(client, number: str, **query) -> str:
    response = client.get(f"/cases/{number}/report.pdf", query_string=query)
    assert response.status_code == 200, response.text
    return pdf_text(response.data)


def test_an_erasure_leaves_no_personal_value_anywhere(app, app_config, runner, owner_engine, full_story, file_case,
                                                      officer, login, client):
    filed = full_story()
    other = file_case(unique_file=False, claimant_name="Other Person", contact_email="other@example.test")
    login(Role.supervisor)
    files = evidence_files(app, filed.number)
    evidence_ids = evidence_of(app, filed.number)
    shared = evidence_files(app, other.number)
    own = {key for key in files if key not in shared}
    assert len(own) >= 3 and files & shared  # a picture of its own (original, copies) and shared ones

    imei = case_row(app, filed.number).imei1  # the device the claimant named is theirs to erase too
    needles = (*NEEDLES, imei)

    # before: the values are everywhere the test looks, so their absence afterwards means something
    _verify(runner)
    before = naming(database_text(owner_engine), needles)
    assert {"case", "message", "evidence", "requested_item", "personal_value"} <= set(before), before.keys()
    assert "audit_event" not in naming(database_text(owner_engine))  # the trail names them by fingerprint only
    assert naming(outbox_text(app_config))
    assert "Quibblesworth" in _report(client, filed.number)
    assert "Quibblesworth" in _report(client, filed.number, for_claimant=1)
    assert _sign_in_failures(owner_engine) == 2  # the account's sign-in and the staff sign-in

    response = officer().erase(filed.number, open_too=True)
    assert response.status_code == 303, response.text
    assert case_row(app, filed.number).erased_at is not None

    _verify(runner)
    left = naming(database_text(owner_engine), needles)
    assert left == {}, left
    assert _sign_in_failures(owner_engine) == 0  # the hashes of the claimant's names go too
    assert naming(outbox_text(app_config), needles) == {}
    for flavour in ({}, {"for_claimant": 1}, {"lang": "ru"}):
        text = _report(client, filed.number, **flavour)
        assert not [needle for needle in needles if needle.casefold() in text.casefold()], text
        assert filed.number in text
    assert "personal data of this case was erased" in _report(client, filed.number)

    root = Path(app_config["UPLOAD_DIR"])
    left = {(path.parent.parent.name, path.name) for path in stored(root)}
    assert not own & left, "files only the erased case used are deleted"
    assert shared <= left, "files another case still uses stay"
    assert not [path for path in stored(root) if CLAIMANT["claimant_name"].encode() in path.read_bytes()]

    page = client.get(f"/cases/{filed.number}")  # the agents' case page says so, and shows nothing of theirs
    assert page.status_code == 200 and "personal data of this case was erased" in page.text
    assert not [needle for needle in NEEDLES if needle.casefold() in page.text.casefold()]
    for evidence_id in evidence_ids:  # not even a file another case shares, through this case
        for what in ("", "/viewable", "/original", "/thumbnail", "/pages/1"):
            assert client.get(f"/cases/{filed.number}/evidence/{evidence_id}{what}").status_code == 404

    case = case_row(app, filed.number)
    assert case.erased_at is not None and case.number == filed.number and case.kind.value == "device_unbind"
    assert case.token_hash and case.claimant_name == "" and case.contact_email == ""


def test_the_claimant_and_the_api_are_told_and_can_add_nothing(app, full_story, officer):
    filed = full_story()
    assert officer().erase(filed.number, open_too=True).status_code == 303

    page = filed.client.get("/track/case")
    assert page.status_code == 200 and "personal data of this case was erased" in page.text
    assert not [needle for needle in NEEDLES if needle.casefold() in page.text.casefold()]
    fresh = app.test_client()
    assert fresh.get(f"/track/{filed.number}?t={filed.token}").status_code == 303
    assert "was erased" in fresh.get("/track/case").text

    refused = filed.client.post("/track/case/reply", data={"body": "Quibblesworth again"})
    assert refused.status_code == 422 and "was erased" in refused.text
    assert filed.client.post("/track/case/reopen", data={}).status_code in (303, 422)

    api = app.test_client()
    headers = {"Authorization": f"Bearer {filed.token}"}
    shown = api.get(f"/api/v1/cases/{filed.number}", headers=headers)
    assert shown.status_code == 410 and shown.json["error"]["code"] == "case_erased"
    sent = api.post(f"/api/v1/cases/{filed.number}/messages", json={"body": "Quibblesworth"}, headers=headers)
    assert sent.status_code == 410 and sent.json["error"]["code"] == "case_erased"
    assert api.get(f"/api/v1/cases/{filed.number}", headers={"Authorization": "Bearer wrong"}).status_code == 404
    with app.app_context(), db.transaction(app) as session:
        from support.models import Message
        from sqlmodel import select
        assert all(message.body == "" for message in session.exec(select(Message)))
