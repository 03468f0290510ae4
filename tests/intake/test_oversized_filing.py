"""A filing over the total size limit: the page comes back with every typed answer and the
files staged before, and nothing of the refused body is stored."""
from __future__ import annotations

import http.client
import io
import re

import pytest
from intake_samples import jpeg, stored_files

from support import imei

BOUNDARY = "rd-oversized"


@pytest.fixture
def small_requests(app_config):
    app_config["MAX_REQUEST_MB"] = 1
    return app_config


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    """A body in the order a browser sends the filing form: its text fields, then its files."""
    body = b""
    for name, value in fields:
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, data in files:
        body += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _typed(kind="device_unbind", **overrides) -> list[tuple[str, str]]:
    fields = {"kind": kind, "hint_email": "old@example.test", "imei1": imei.generate(), "model": "Телефон 12 «Pro»",
              "purchase_date": "2024-03-01", "shop": "Negozio <b>Centro</b>", "claimant_name": "Мария Rossi",
              "contact_email": "maria@example.test", "language": "it", "consent": "y", **overrides}
    return list(fields.items())


def _post(client, body: bytes, **headers):
    return client.post("/recover", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}",
                       headers=headers)


def test_an_oversized_filing_keeps_every_typed_field_and_stores_nothing(small_requests, app, client):
    fields = _typed()
    body = _multipart(fields, [("evidence-receipt", "scan.pdf", b"%PDF-1.4" + b"\0" * (2 * 1024 * 1024)),
                               ("evidence-box_photo", "box.jpg", jpeg())])
    response = _post(client, body)
    assert response.status_code == 413
    page = response.text
    assert "larger than 1 MB together" in page and "Your answers are kept" in page
    values = dict(fields)
    assert f'value="{values["imei1"]}"' in page and 'value="old@example.test"' in page
    assert 'value="Телефон 12 «Pro»"' in page and 'value="Мария Rossi"' in page
    assert 'value="Negozio &lt;b&gt;Centro&lt;/b&gt;"' in page and "<b>Centro" not in page  # still escaped
    assert re.search(r'<input checked[^>]*value="device_unbind"', page)
    assert re.search(r'<input checked[^>]*name="consent"', page) or re.search(r'name="consent"[^>]*checked', page)
    assert re.search(r'<option selected value="it">|<option value="it" selected', page)
    assert stored_files(app.config["UPLOAD_DIR"]) == []  # not even the small file after the big one


def test_the_oversized_page_speaks_the_claimants_language(small_requests, client):
    body = _multipart(_typed(), [("evidence-receipt", "scan.pdf", b"\0" * (2 * 1024 * 1024))])
    page = _post(client, body, **{"Accept-Language": "ru"}).text
    assert "Ваши ответы сохранены" in page and 'value="Мария Rossi"' in page
    page = client.post("/recover?lang=it", data=body,
                       content_type=f"multipart/form-data; boundary={BOUNDARY}").text
    assert "Le tue risposte sono state conservate" in page


def test_files_staged_by_an_earlier_try_survive_an_oversized_retry(small_requests, app, client):
    first = client.post("/recover", data={"kind": "device_unbind", "evidence-box_photo": [(io.BytesIO(jpeg()), "box.jpg")]},
                        content_type="multipart/form-data")
    assert first.status_code == 422
    [reference] = re.findall(r'name="staged" value="([^"]+)"', first.text)
    before = sorted(stored_files(app.config["UPLOAD_DIR"]))
    body = _multipart(_typed() + [("staged", reference)], [("evidence-receipt", "scan.pdf", b"\0" * (2 * 1024 * 1024))])
    response = _post(client, body)
    assert response.status_code == 413 and f'value="{reference}"' in response.text and "box.jpg" in response.text
    assert sorted(stored_files(app.config["UPLOAD_DIR"])) == before
    # a forged reference in the refused body is dropped, not shown
    forged = _post(client, _multipart(_typed() + [("staged", "forged.reference")],
                                      [("evidence-receipt", "scan.pdf", b"\0" * (2 * 1024 * 1024))]))
    assert forged.status_code == 413 and "forged.reference" not in forged.text


def test_hostile_oversized_bodies_get_the_plain_page(small_requests, client):
    huge_field = _multipart([("claimant_name", "A" * (3 * 1024 * 1024))], [])
    response = _post(client, huge_field)
    assert response.status_code == 413 and "AAAA" not in response.text and 'name="imei1"' in response.text
    broken = b"--" + BOUNDARY.encode() + b"\r\nbroken" + b"\0" * (2 * 1024 * 1024)
    response = _post(client, broken)
    assert response.status_code == 413 and 'name="imei1"' in response.text
    not_multipart = client.post("/recover", data=b"a=" + b"b" * (2 * 1024 * 1024),
                                content_type="application/x-www-form-urlencoded")
    assert not_multipart.status_code == 413 and 'name="imei1"' in not_multipart.text


def test_a_real_server_answers_an_oversized_filing_with_the_typed_fields(small_requests, live_server):
    fields = _typed()
    body = _multipart(fields, [("evidence-receipt", "scan.pdf", b"\0" * (3 * 1024 * 1024))])
    host, port = live_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", "/recover", body=body,
                       headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    assert response.status == 413
    assert f'value="{dict(fields)["imei1"]}"' in page and 'value="Мария Rossi"' in page
