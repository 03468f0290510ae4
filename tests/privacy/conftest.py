"""Fixtures for erasure and retention: a data-protection officer with TOTP, and a claimant's
case filed through the web form with every kind of personal data (``erasure_scan`` says which)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from erasure_samples import jpeg, pdf
from erasure_scan import AGENT_REPLY, ANSWER, CLAIMANT, NOTE, REPLY
from flask.testing import FlaskClient
from sqlmodel import select
from staff import Staff

from support import cases, checklist, db
from support.audit import Actor
from support.evidence.analysis.run import analyse_evidence
from support.evidence.pictures import draw_pdf_pictures
from support.models import Evidence, Role, SavedQueueView


@dataclass
class Officer:
    """A data-protection officer (``staff``, with TOTP) who posts erasures from their own client."""

    staff: Staff

    @property
    def agent(self):
        return self.staff.agent

    @property
    def client(self) -> FlaskClient:
        return self.staff.client

    def code(self) -> str:
        return self.staff.fresh_code()

    def erase(self, number: str, *, reason: str = "DPO-2026-17", open_too: bool = False, **form):
        data = {"reason": reason, "confirm": "yes", "code": self.code(), **form}
        if open_too:
            data["open_too"] = "yes"
        return self.client.post(f"/privacy/erasure/{number}", data=data)


@pytest.fixture
def officer(staff):
    """``officer(role=Role.dpo) -> Officer``."""
    return lambda role=Role.dpo: Officer(staff(role))


@dataclass
class Filed:
    number: str
    token: str
    client: FlaskClient


@pytest.fixture
def file_case(app, claim_fields):
    """``file_case(unique_file=True, **fields) -> Filed``: a case filed at /recover by a claimant's
    browser, which stays signed in to it. Its receipt and box photo are the same bytes in every
    case filed so (shared files); with ``unique_file`` it also carries a picture of its own."""

    def file(unique_file: bool = True, **fields) -> Filed:
        browser = app.test_client()
        surname = fields.get("claimant_name", "Maria Rossi").split()[-1].lower()  # file names name people too
        files = {"evidence-receipt": [(io.BytesIO(pdf()), f"{surname}-receipt.pdf")],
                 "evidence-box_photo": [(io.BytesIO(jpeg()), "box.jpg")]}
        if unique_file:
            files["evidence-id_document"] = [(io.BytesIO(jpeg(color=(7, 99, 3))), f"{surname}-passport.jpg")]
        response = browser.post("/recover", data={**claim_fields("device_unbind", **fields), **files},
                                content_type="multipart/form-data")
        assert response.status_code == 303, response.text
        with browser.session_transaction() as state:
            return Filed(state["filed"]["number"], state["filed"]["token"], browser)

    return file


@pytest.fixture
def full_story(app, tx, file_case, make_agent):
    """``full_story() -> Filed``: the claimant files, confirms, the worker analyses the files and
    draws the PDF, an agent replies by name, notes, saves a queue search for them, asks a
    question the claimant answers, the claimant replies and tries to sign in to the account
    service with their own address."""

    def story(**fields) -> Filed:
        filed = file_case(**{**CLAIMANT, **fields})
        agent = make_agent(Role.agent)
        actor = Actor("agent", str(agent.id), agent.name)
        with tx() as session:
            case = cases.get_by_number(session, filed.number)
            cases.confirm_contact(session, case)
            cases.transition(session, case, cases.CaseStatus.in_review, actor=actor)
            case.assignee_id = agent.id
            cases.add_message(session, case, body=AGENT_REPLY, actor=actor)
            cases.add_message(session, case, body=NOTE, actor=actor, visibility=cases.MessageVisibility.internal)
            session.add(SavedQueueView(agent_id=agent.id, name="Quibblesworth follow-up",
                                       query="q=Zoltan+Quibblesworth"))
            cases.request_information(session, case, requested={}, body="One question, Zoltan Quibblesworth",
                                      question="Where did Zoltan Quibblesworth buy it?", version=case.version,
                                      actor=actor)
            evidence_ids = [item.id for item in session.exec(
                select(Evidence).where(Evidence.case_id == case.id))]
        with app.app_context():
            for evidence_id in evidence_ids:  # what the worker does after the upload commits
                draw_pdf_pictures(evidence_id)
                analyse_evidence(evidence_id)
        response = filed.client.post("/track/case/checklist", data={
            f"answer-{item_id}": ANSWER for item_id in _open_items(app, filed.number)})
        assert response.status_code == 303, response.text
        assert filed.client.post("/track/case/reply", data={"body": REPLY}).status_code == 303
        assert app.test_client().post("/account/sign-in", data={"login": CLAIMANT["contact_email"],
                                                                 "password": "wrong"}).status_code in (200, 401, 422)
        # and, by mistake, at the staff sign-in: an email no agent has is counted too (a hash of it)
        assert app.test_client().post("/agent/sign-in", data={"email": CLAIMANT["contact_email"],
                                                               "password": "wrong"}).status_code == 200
        return filed

    return story


def _open_items(app, number: str) -> list[int]:
    with app.app_context(), db.transaction(app) as session:
        return [item.id for item in checklist.open_items(session, cases.get_by_number(session, number))]
