"""Fixtures for "checks are always current": claimants who file and add files through the
real pages, an agent who reads the case page and the PDF, the directory's command line."""
from __future__ import annotations

import html
import io
import re
import subprocess
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sent_mail import read_outbox

from support import checks, db, imei
from support.cases import get_by_number
from support.models import Role
from support.review.labels import check_detail

PASSWORD = "correct horse battery"
URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass
class Filed:
    number: str
    token: str
    confirm_path: str
    client: FlaskClient

    def add_evidence(self, kind: str, data: bytes) -> None:
        """The claimant adds a file on the tracking page."""
        assert self.client.get(f"/track/{self.number}?t={self.token}").status_code == 303
        response = self.client.post("/track/case/evidence", data={"kind": kind, "evidence": [(io.BytesIO(data), "more.jpg")]},
                                    content_type="multipart/form-data")
        assert response.status_code == 303, response.text


@pytest.fixture
def file_claim(app, app_config):
    """``file_claim(receipt=bytes, box=bytes, **fields) -> Filed``: a device_unbind claim
    posted on /recover, its number, private code and confirmation link read from the email."""
    count = iter(range(1000))

    def post(receipt: bytes, box: bytes, **fields) -> Filed:
        client = app.test_client()
        contact = fields.pop("contact_email", f"claimant{next(count)}@example.test")
        data = {"kind": "device_unbind", "hint_email": "old@example.test", "imei1": imei.generate(),
                "model": "Phone 12", "purchase_date": "2024-03-01", "shop": "Corner Shop",
                "claimant_name": "Maria Rossi", "contact_email": contact, "language": "en", "consent": "y",
                "evidence-receipt": [(io.BytesIO(receipt), "receipt.jpg")],
                "evidence-box_photo": [(io.BytesIO(box), "box.jpg")], **fields}
        response = client.post("/recover", data=data, content_type="multipart/form-data")
        assert response.status_code in (302, 303), response.text
        email = [mail for mail in read_outbox(app_config) if mail.to == contact][-1]
        links = URL.findall(email.body)
        confirm = next(link for link in links if "/recover/confirm/" in link)
        track = next(link for link in links if "/track/" in link and "t=" in link)
        number = re.search(r"RD-\d{4}-\d+", email.subject).group()
        return Filed(number, track.split("t=")[1], "/recover/confirm/" + confirm.split("/recover/confirm/")[1], client)

    return post


@pytest.fixture
def reader(app, make_agent):
    """A signed-in agent's client, to read case pages and reports."""
    agent = make_agent(Role.agent)
    client = app.test_client()
    assert client.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD}).status_code == 302
    return client


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def shown(reader):
    """``shown(number) -> (page text, report text)``: what the case page and its PDF say now."""

    def read(number: str) -> tuple[str, str]:
        page = reader.get(f"/cases/{number}")
        assert page.status_code == 200
        report = reader.get(f"/cases/{number}/report.pdf")
        assert report.status_code == 200
        text = subprocess.run(["pdftotext", "-", "-"], input=report.data, capture_output=True, check=True).stdout
        return _text(page.text), " ".join(text.decode().split())

    return read


@pytest.fixture
def stored(app):
    """``stored(number) -> {code: check}`` as the case keeps them, after asserting they are
    what the checks say now (recomputed and rolled back): nothing is stale."""

    def read(number: str) -> dict[str, dict]:
        with app.app_context(), db.transaction(app) as session:
            case = get_by_number(session, number)
            kept = [dict(check) for check in case.checks]
            checks.refresh(session, case, app.config)
            assert case.checks == kept, f"{number} shows stale checks"
            session.rollback()
        return {check["code"]: check for check in kept}

    return read


@pytest.fixture
def agrees(app, stored, shown):
    """``agrees(number) -> {code: result}``: every check the case keeps is current and is the
    line its page and its report show (in English, the test agent's language)."""

    def check(number: str) -> dict[str, str]:
        results = stored(number)
        page, report = shown(number)
        with app.test_request_context():
            lines = {code: check_detail(result) for code, result in results.items()}
        for code, line in lines.items():
            assert line in page, (number, code, line)
            assert line in report, (number, code, line)
        return {code: result["result"] for code, result in results.items()}

    return check
