"""/recover through the test client: each kind filed, every refusal, nothing lost."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from intake_samples import HTML, SVG, TEXT, files_for, gif, jpeg, outbox, pdf, png_bomb, stored_files
from sqlmodel import select

from support import db, imei
from support.models import AuditEvent, Case, CaseStatus, Evidence


def _case(app, number: str) -> Case:
    with app.app_context(), db.transaction(app) as session:
        return session.exec(select(Case).where(Case.number == number)).one()


def _evidence(app, case: Case) -> list[Evidence]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))


def _filed(client) -> tuple[str, str]:
    page = client.get("/recover/filed").text
    number = re.search(r'id="case-number">([^<]+)<', page).group(1)
    token = re.search(r'id="case-token" class="token">([^<]+)<', page).group(1)
    return number, token


def test_the_form_offers_every_kind_and_preselects_one(client):
    page = client.get("/recover?kind=locked_account").text
    assert re.search(r'<input checked[^>]*value="locked_account"', page)
    for kind in ("lost_credentials", "device_unbind"):
        assert f'value="{kind}"' in page


@pytest.mark.parametrize("kind", ["locked_account", "lost_credentials", "device_unbind"])
def test_each_kind_is_filed_confirmed_by_email_and_queued(app, client, recover, kind):
    response = recover(kind, language="it")
    assert response.status_code == 303, response.text
    number, token = _filed(client)
    assert client.get("/recover/filed").status_code == 302  # the code is shown once

    case = _case(app, number)
    assert case.status == CaseStatus.submitted and case.language == "it"
    assert case.token_hash != token and len(token) >= 24
    evidence = _evidence(app, case)
    assert {item.kind.value for item in evidence} == {field.removeprefix("evidence-") for field in files_for(kind)}
    names = {path.name for path in stored_files(app.config["UPLOAD_DIR"])}
    for item in evidence:  # content-addressed: named by hash, never by the claimant's file name
        assert item.sha256 in names
        # a picture's thumbnail is made at upload; a PDF's page is drawn by the worker afterwards
        assert item.thumbnail_sha256 in names if item.media_type != "application/pdf" else item.thumbnail_sha256 is None
        assert Path(app.config["UPLOAD_DIR"], "originals", item.sha256[:2], item.sha256).exists()
    assert not any("receipt" in name or "." in name for name in names)

    [confirmation] = outbox(app)
    assert confirmation["To"] == "maria@example.test"
    assert number in confirmation["Subject"] and "Conferma" in confirmation["Subject"]
    body = confirmation.get_content()
    assert token in body and "Numero della pratica" in body
    link = re.search(r"http://\S+/recover/confirm/\S+", body).group(0)

    other_browser = app.test_client()
    confirmed = other_browser.get(link.split("5000", 1)[1])
    assert confirmed.status_code == 200 and number in confirmed.text
    assert _case(app, number).status == CaseStatus.new
    assert "/track/case" in confirmed.text
    assert other_browser.get("/track/case").status_code == 200  # the link also opens the case
    received = outbox(app)[1]  # "case received", in Italian too
    assert "Abbiamo ricevuto" in received["Subject"] and "nella nostra coda" in received.get_content()


def test_a_forged_confirmation_link_changes_nothing(app, client, recover):
    recover()
    number, _ = _filed(client)
    assert client.get("/recover/confirm/not-a-real-token").status_code == 404
    assert _case(app, number).status == CaseStatus.submitted


REFUSED = {
    "html_renamed_jpg": ("photo.jpg", HTML, "is not a file type we accept"),
    "text_renamed_jpg": ("photo.jpg", TEXT, "is not a file type we accept"),
    "svg": ("drawing.svg", SVG, "is not a file type we accept"),
    "gif": ("box.gif", gif(), "is not a file type we accept"),
    "png_bomb": ("box.png", png_bomb(), "has too many pixels"),
    "pdf_javascript": ("receipt.pdf", pdf(javascript="app.alert('hi')"), "contains a script (JavaScript)"),
    "pdf_attachment": ("receipt.pdf", pdf(attachment=True), "contains an attached file"),
    "twenty_megabytes": ("huge.jpg", jpeg(trailer=b"\0" * (20 * 1024 * 1024)), "is larger than 15 MB"),
}


def test_refused_files_are_named_stored_nowhere_and_the_form_is_kept(app, recover):
    assert len(REFUSED["png_bomb"][1]) < 25_000
    for filename, data, words in REFUSED.values():
        response = recover("locked_account", files={"evidence-id_document": [(io.BytesIO(data), filename)]},
                           claimant_name="Ada Lovelace", shop="Shop & Co")
        assert response.status_code == 422
        assert words in response.text and filename in response.text
        assert 'value="Ada Lovelace"' in response.text and 'value="Shop &amp; Co"' in response.text
        assert stored_files(app.config["UPLOAD_DIR"]) == []
    with app.app_context(), db.transaction(app) as session:
        assert session.exec(select(Case)).first() is None
        assert session.exec(select(Evidence)).first() is None


IMEI_MISTAKES = [
    (imei.generate()[:14] + "x", "only digits"),
    ("35-209900-176148-" + str((int(imei.luhn_digit("35209900176148")) + 1) % 10), "not a valid IMEI"),
    ("3520990017614823", "IMEISV"),
    ("35209900176148", "too short"),
]


def test_each_imei_mistake_gets_its_own_explanation(app, recover):
    for value, words in IMEI_MISTAKES:
        response = recover(imei1=value)
        assert response.status_code == 422
        assert words in response.text and "*#06#" in response.text
        assert f'value="{value}"' in response.text
    assert stored_files(app.config["UPLOAD_DIR"])  # the good files were staged, ready for the next try


def test_accepted_files_survive_an_error_and_are_filed_without_sending_them_again(app, client, recover, claim_fields):
    first = recover("device_unbind", imei1="12345", model="Model X")
    assert first.status_code == 422
    references = re.findall(r'name="staged" value="([^"]+)"', first.text)
    assert len(references) == 2 and "receipt.pdf" in first.text and "box.jpg" in first.text
    assert 'value="Model X"' in first.text
    stored_before = {path.name for path in stored_files(app.config["UPLOAD_DIR"])}

    second = client.post("/recover", data={**claim_fields("device_unbind"), "staged": references},
                         content_type="multipart/form-data")
    assert second.status_code == 303, second.text
    number, _ = _filed(client)
    evidence = _evidence(app, _case(app, number))
    assert sorted(item.original_name for item in evidence) == ["box.jpg", "receipt.pdf"]
    assert {path.name for path in stored_files(app.config["UPLOAD_DIR"])} == stored_before


def test_a_forged_staged_reference_is_ignored(client, claim_fields):
    response = client.post("/recover", data={**claim_fields("locked_account"), "staged": ["forged.reference"]},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Please add: one of Identity document or Purchase receipt." in response.text


def test_missing_evidence_is_named_per_kind(recover):
    response = recover("lost_credentials", files={"evidence-receipt": [(io.BytesIO(pdf()), "r.pdf")]})
    assert response.status_code == 422
    assert "Photo of the box label" in response.text and "IMEI screen" in response.text


def test_one_refused_file_does_not_lose_the_good_one_sent_with_it(app, recover):
    response = recover("device_unbind", files={"evidence-receipt": [(io.BytesIO(pdf()), "receipt.pdf")],
                                               "evidence-box_photo": [(io.BytesIO(SVG), "box.svg")]})
    assert response.status_code == 422
    assert "box.svg" in response.text and len(re.findall(r'name="staged"', response.text)) == 1


def test_a_jpeg_with_gps_and_appended_html_is_cleaned(app, client, recover):
    import hashlib

    from PIL import Image

    original = jpeg(gps=True, software="Adobe Photoshop 25.0", taken_at="2024:02:29 13:45:10",
                    trailer=b"<html><script>alert(1)</script></html>")
    response = recover("locked_account", files={"evidence-id_document": [(io.BytesIO(original), "id.jpg")]})
    assert response.status_code == 303
    number, _ = _filed(client)
    [item] = _evidence(app, _case(app, number))
    assert item.sha256 == hashlib.sha256(original).hexdigest()
    assert item.exif["software"] == "Adobe Photoshop 25.0" and item.exif["taken_at"] == "2024-02-29T13:45:10"
    assert item.exif["has_gps"] is True and item.phash and len(item.phash) == 16
    viewable = Path(app.config["UPLOAD_DIR"], "viewable", item.viewable_sha256[:2], item.viewable_sha256).read_bytes()
    assert b"<html" not in viewable and b"<script" not in viewable
    image = Image.open(io.BytesIO(viewable))
    assert image.format == "JPEG" and not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert (image.width, image.height) == (item.width, item.height) == (640, 480)
    stored_original = Path(app.config["UPLOAD_DIR"], "originals", item.sha256[:2], item.sha256).read_bytes()
    assert stored_original == original  # the evidence itself is kept exactly
    with app.app_context(), db.transaction(app) as session:
        actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.case_number == number)))
    assert {"case.filed", "evidence.added"} <= actions


@pytest.fixture
def small_requests(app_config):
    app_config["MAX_REQUEST_MB"] = 1
    return app_config


def test_a_request_over_the_limit_gets_a_usable_page_not_a_reset(small_requests, app, client, claim_fields):
    big = {"evidence-receipt": [(io.BytesIO(b"%PDF-1.4" + b"\0" * (2 * 1024 * 1024)), "scan.pdf")]}
    response = client.post("/recover", data={**claim_fields(), **big}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than 1 MB together" in response.text and 'name="imei1"' in response.text
    assert client.get("/recover").status_code == 200


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_the_form_needs_its_csrf_token(csrf_on, app, client, claim_fields):
    from intake_samples import files_for

    page = client.get("/recover").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    without = client.post("/recover", data={**claim_fields(), **files_for("device_unbind")},
                          content_type="multipart/form-data")
    assert without.status_code == 400 and "Your session expired" in without.text
    assert 'value="Maria Rossi"' in without.text and stored_files(app.config["UPLOAD_DIR"]) == []
    with_token = client.post("/recover", data={**claim_fields(), **files_for("device_unbind"), "csrf_token": token},
                             content_type="multipart/form-data")
    assert with_token.status_code == 303
