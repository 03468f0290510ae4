"""Every kind of bad input gets a 4xx JSON error naming the field, and nothing is stored."""
from __future__ import annotations

import http.client
import io
import json
import struct
import zlib

import pytest
from sqlmodel import select

from support import db
from support.models import AuditEvent, Case, Evidence

from .factories import conforms, files_for, jpeg, outbox, stored_files

PNG_BOMB_SIDE = 12_000


def _png_bomb() -> bytes:
    """A ~20 KB PNG that decodes to 12000x12000 pixels (a decompression bomb), written by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + PNG_BOMB_SIDE // 8)  # filter byte + one bit per pixel
    header = struct.pack(">IIBBBBB", PNG_BOMB_SIDE, PNG_BOMB_SIDE, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * PNG_BOMB_SIDE, 9))
            + chunk(b"IEND", b""))


def _pdf_with_javascript() -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hello');")})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _one_file(data: bytes, name: str, kind: str = "receipt") -> dict:
    kinds = ["receipt", "box_photo"]
    form = files_for(kinds)
    form["evidence"][kinds.index(kind)] = (data, name)
    return form


BAD_FILINGS = {
    "no kind": (dict(kind=None), 422, "kind", "required"),
    "unknown kind": (dict(kind="steal_phone"), 422, "kind", "invalid"),
    "no name": (dict(claimant_name="  "), 422, "claimant_name", "required"),
    "name with NUL": (dict(claimant_name="Ma\x00ria"), 400, "claimant_name", "control_character"),
    "name too long": (dict(claimant_name="M" * 201), 422, "claimant_name", "too_long"),
    "bad email": (dict(contact_email="maria-at-example"), 422, "contact_email", "invalid"),
    "language de": (dict(language="de"), 422, "language", "invalid"),
    "no account hint": (dict(account_hint=None), 422, "account_hint", "required"),
    "hint is words": (dict(account_hint="my old phone"), 422, "account_hint", "invalid"),
    "no imei": (dict(imei1=None), 422, "imei1", "imei_empty"),
    "imei check digit": (dict(imei1="490154203237519"), 422, "imei1", "imei_check_digit"),
    "imeisv": (dict(imei1="4901542032375101"), 422, "imei1", "imei_imeisv"),
    "imei 14 digits": (dict(imei1="49015420323751"), 422, "imei1", "imei_too_short"),
    "imei letters": (dict(imei2="49015420323751X"), 422, "imei2", "imei_not_digits"),
    "date not iso": (dict(purchase_date="31/03/2024"), 422, "purchase_date", "invalid"),
    "date impossible": (dict(purchase_date="2024-02-30"), 422, "purchase_date", "invalid"),
    "date in future": (dict(purchase_date="2999-01-01"), 422, "purchase_date", "in_future"),
    "no consent": (dict(consent=None), 422, "consent", "consent_required"),
    "consent refused": (dict(consent="false"), 422, "consent", "consent_required"),
    "kinds fewer than files": (dict(evidence_kind=["receipt"]), 422, "evidence_kind", "count_mismatch"),
    "unknown evidence kind": (dict(evidence_kind=["receipt", "selfie"]), 422, "evidence_kind", "invalid"),
    "no files": (dict(evidence=None, evidence_kind=None), 422, "evidence", "required"),
    "missing box photo": (files_for(["receipt"]), 422, "evidence", "missing_evidence"),
    "html renamed jpg": (_one_file(b"<html><script>alert(1)</script></html>", "receipt.jpg"), 415, "evidence",
                         "type_not_allowed"),
    "svg": (_one_file(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "box.svg", "box_photo"), 415,
            "evidence", "type_not_allowed"),
    "gif": (_one_file(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "box.gif", "box_photo"), 415, "evidence",
            "type_not_allowed"),
    "png bomb": (_one_file(_png_bomb(), "box.png", "box_photo"), 422, "evidence", "too_many_pixels"),
    "pdf with javascript": (_one_file(_pdf_with_javascript(), "receipt.pdf"), 422, "evidence", "pdf_active_content"),
}


def _nothing_stored(app) -> None:
    with app.app_context(), db.transaction(app) as session:
        assert session.exec(select(Case)).all() == []
        assert session.exec(select(Evidence)).all() == []
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "case.filed")).all() == []
    assert stored_files(app) == []
    assert outbox(app) == []


def test_every_bad_filing_is_refused_by_field_and_stores_nothing(app, file_case):
    for name, (overrides, status, field, code) in BAD_FILINGS.items():
        response = file_case(**overrides)
        assert response.status_code == status, (name, response.json)
        conforms(response, "/api/v1/cases", "post")
        assert (response.json["error"]["field"], response.json["error"]["code"]) == (field, code), name
        assert response.json["error"]["message"], name
    _nothing_stored(app)


def test_imei_errors_say_where_to_find_the_imei(file_case):
    message = file_case(imei1="4901542032375101").json["error"]["message"]
    assert "IMEISV" in message and "*#06#" in message


@pytest.fixture
def small_limits(app_config):
    app_config.update(MAX_FILE_MB=1, MAX_REQUEST_MB=2)
    return app_config


def test_a_file_over_the_file_limit_is_a_json_413(small_limits, app, file_case):
    form = _one_file(jpeg() + b"\0" * (1024 * 1024 + 10), "receipt.jpg")
    response = file_case(**form)
    assert response.status_code == 413
    conforms(response, "/api/v1/cases", "post")
    assert response.json["error"] == {"code": "too_large", "field": "evidence", "message": response.json["error"]["message"]}
    _nothing_stored(app)


def test_a_request_over_the_request_limit_is_a_json_413_while_parsing(small_limits, app, file_case):
    form = _one_file(b"\xff" * (3 * 1024 * 1024), "receipt.jpg")
    response = file_case(**form)
    assert response.status_code == 413
    conforms(response, "/api/v1/cases", "post")
    assert response.json["error"]["code"] == "request_entity_too_large"
    _nothing_stored(app)


def test_a_filing_not_sent_as_multipart_is_a_415(app, client):
    response = client.post("/api/v1/cases", json={"kind": "device_unbind"})
    assert response.status_code == 415
    conforms(response, "/api/v1/cases", "post")
    assert response.json["error"]["code"] == "multipart_required"
    _nothing_stored(app)


def test_unknown_routes_and_methods_answer_json(client):
    for method, path, status in [("get", "/api/v1/nothing-here", 404), ("get", "/api/v1/cases", 405),
                                 ("delete", "/api/v1/cases/RD-2026-000001", 405), ("post", "/api/v2/cases", 404)]:
        response = getattr(client, method)(path)
        assert response.status_code == status, path
        assert response.mimetype == "application/json", path
        assert set(response.json["error"]) == {"code", "message", "field"}
        if status == 405:
            assert response.headers["Allow"], path


def test_every_405_says_what_is_allowed(client):
    for method, path, allowed in [("put", "/api/v1/cases", {"POST"}), ("patch", "/api/v1/cases/RD-2026-000001", {"GET"}),
                                  ("get", "/api/v1/cases/RD-2026-000001/messages", {"POST"}),
                                  ("delete", "/recover", {"GET", "POST"})]:
        response = getattr(client, method)(path)
        assert response.status_code == 405, path
        assert allowed <= set(response.headers["Allow"].replace(" ", "").split(",")), path


def test_error_messages_follow_accept_language(file_case):
    response = file_case(language="de", headers={"Accept-Language": "ru"})
    assert response.json["error"]["field"] == "language"
    assert "Выберите" in response.json["error"]["message"]
    response = file_case(consent=None, headers={"Accept-Language": "it"})
    assert "consenso" in response.json["error"]["message"]


def test_a_truncated_multipart_body_gets_a_json_refusal(client):
    response = client.post("/api/v1/cases", data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "consent"


@pytest.fixture
def one_megabyte_requests(app_config):
    app_config.update(MAX_REQUEST_MB=1, RATELIMIT_ENABLED=True)  # the limits read the form first


def test_a_real_server_answers_an_oversized_upload_with_json_not_a_reset(one_megabyte_requests, live_server):
    boundary = "rd-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"a.jpg\"\r\n\r\n".encode()
            + b"\xff" * (3 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode())
    host, port = live_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", "/api/v1/cases", body=body,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "request_entity_too_large"
    connection.close()
