"""A claim filed with evidence, looked at by an agent and printed as a PDF report, with every
file in a private bucket on a real S3 server (SQLite and PostgreSQL alike)."""
from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from support import db
from support.models import Case, Evidence, Role
from support.storage import AREAS, for_app


@pytest.fixture
def bucket(s3_server) -> dict:
    return s3_server.config()


@pytest.fixture
def app_config(app_config, bucket):
    return {**app_config, **bucket}


def _filed_number(client) -> str:
    return re.search(r'id="case-number">([^<]+)<', client.get("/recover/filed").text).group(1)


def test_a_claim_lives_in_the_bucket_from_filing_to_report(app, client, recover, login, s3_server, bucket):
    assert recover("device_unbind", claimant_name="Maria Rossi").status_code == 303
    number = _filed_number(client)
    with app.app_context(), db.transaction(app) as session:
        case = session.exec(select(Case).where(Case.number == number)).one()
        items = list(session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))

    name = urlsplit(bucket["STORAGE_URL"]).netloc
    keys = {item["Key"] for item in s3_server.client().list_objects_v2(Bucket=name).get("Contents", ())}
    stored = {(area, entry.name) for area in AREAS for entry in for_app(app).entries(area)}
    for item in items:
        assert f"originals/{item.sha256[:2]}/{item.sha256}" in keys
        copies = [("print", item.print_sha256), ("thumbnails", item.thumbnail_sha256)] if item.print_sha256 else []
        assert {("originals", item.sha256), *copies} <= stored  # a PDF's copies are drawn by the worker later
        grants = s3_server.client().get_object_acl(Bucket=name, Key=f"originals/{item.sha256[:2]}/{item.sha256}")["Grants"]
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"], "private: the owner's grant only"
    assert not Path(app.config["UPLOAD_DIR"]).exists(), "nothing on the web server's disk"

    login(Role.agent)
    assert number in client.get(f"/cases/{number}").text
    for item in items:
        original = client.get(f"/cases/{number}/evidence/{item.id}/original")
        assert original.status_code == 200 and hashlib.sha256(original.data).hexdigest() == item.sha256
    photo = next(item for item in items if item.media_type == "image/jpeg")
    thumbnail = client.get(f"/cases/{number}/evidence/{photo.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype.startswith("image/")

    report = client.get(f"/cases/{number}/report.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=report.data, capture_output=True, check=True).stdout.decode()
    assert number in " ".join(text.split())
    assert for_app(app).open("print", photo.print_sha256) in report.data, "the box photo's print copy is embedded"


def test_a_missing_object_is_a_404_not_a_broken_download(app, client, recover, login):
    assert recover("locked_account").status_code == 303
    number = _filed_number(client)
    with app.app_context(), db.transaction(app) as session:
        item = session.exec(select(Evidence)).one()
    for_app(app).delete("originals", item.sha256)
    login(Role.agent)
    assert client.get(f"/cases/{number}/evidence/{item.id}/original").status_code == 404
