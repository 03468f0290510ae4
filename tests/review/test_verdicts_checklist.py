"""A verdict per evidence file, and the request for information as the claimant's checklist.

The agent's pages and the claimant's tracking page are driven through their routes, the
services underneath are real, and every change is read back from the database and the
audit trail.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sent_mail import read_outbox
from sqlmodel import select

from support import cases, db, filing, personal
from support.models import (AuditEvent, Case, CaseKind, CaseStatus, Evidence, EvidenceKind, RequestedItem, Role,
                            utcnow)

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


def trail(app, number: str, action: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return personal.reveal(session, list(session.exec(  # with the personal values they stand for
            select(AuditEvent).where(AuditEvent.case_number == number, AuditEvent.action == action)
            .order_by(AuditEvent.seq))))


def items(app, number: str) -> list[RequestedItem]:
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        return list(session.exec(select(RequestedItem).where(RequestedItem.case_id == case.id)
                                 .order_by(RequestedItem.id)))


def stored(app, model, row_id):
    with app.app_context(), db.transaction(app) as session:
        return session.get(model, row_id)


@pytest.fixture
def claimant(app):
    """``claimant(case, token) -> client`` signed in on the tracking page, in its own browser."""

    def open_case(case, token):
        browser = app.test_client()
        response = browser.post("/track", data={"number": case.number, "token": token})
        assert response.status_code == 303
        return browser

    return open_case


@pytest.fixture
def held_case(client, login, make_case, attach, load, photo):
    """A case in review held by a signed-in agent, with a receipt (evidence #1 of it) and a box photo."""

    def make(**fields):
        case, token = make_case(**fields)
        agent = login(Role.agent)
        receipt = attach(case.number, EvidenceKind.receipt, photo((30, 30, 30)))
        box = attach(case.number, EvidenceKind.box_photo, photo((60, 90, 60)))
        assert client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version}).status_code == 302
        return case, token, agent, receipt, box

    return make


def slot_post(data: dict, files: dict[str, tuple[bytes, str]] | None = None) -> dict:
    sent = dict(data)
    for name, (content, filename) in (files or {}).items():
        sent[name] = (io.BytesIO(content), filename)
    return sent


def test_an_agent_judges_a_file_and_approval_waits_for_its_replacement(app, client, held_case, load, make_agent):
    case, _token, agent, receipt, box = held_case()
    url = f"/cases/{case.number}/evidence/{receipt.id}/verdict"

    missing_reason = client.post(url, data={"version": load(case.number).version, "verdict": "needs_upload",
                                            "note": "my careful note"})
    assert missing_reason.status_code == 422
    assert "Choose why a new upload is needed" in missing_reason.text and "my careful note" in missing_reason.text
    other_without_words = client.post(url, data={"version": load(case.number).version, "verdict": "needs_upload",
                                                 "reason": "other"})
    assert other_without_words.status_code == 422 and "Say in the note" in other_without_words.text
    assert stored(app, Evidence, receipt.id).verdict is None and not trail(app, case.number, "evidence.verdict_set")

    seen = load(case.number).version
    saved = client.post(url, data={"version": seen, "verdict": "needs_upload", "reason": "unreadable",
                                   "note": "The total is blurred."})
    assert saved.status_code == 302
    judged = stored(app, Evidence, receipt.id)
    assert (judged.verdict.value, judged.verdict_reason.value, judged.verdict_by_id) == ("needs_upload", "unreadable",
                                                                                          agent.id)
    assert client.post(url, data={"version": seen, "verdict": "accepted"}).status_code == 409  # stale page
    client.post(f"/cases/{case.number}/evidence/{box.id}/verdict",
                data={"version": load(case.number).version, "verdict": "accepted", "reason": "edited"})
    [first, second] = trail(app, case.number, "evidence.verdict_set")
    assert first.before == {"verdict": None, "reason": None, "note": None}
    assert first.after == {"verdict": "needs_upload", "reason": "unreadable", "note": "The total is blurred."}
    assert second.after == {"verdict": "accepted", "reason": None, "note": None}  # an accepted file keeps no reason

    page = client.get(f"/cases/{case.number}").text
    assert 'data-verdict="needs_upload"' in page and 'data-verdict="accepted"' in page
    assert 'id="uploads-outstanding"' in page
    evidence_page = client.get(f"/cases/{case.number}/evidence/{receipt.id}").text
    assert 'id="verdict"' in evidence_page and "The total is blurred." in evidence_page

    refused = client.post(f"/cases/{case.number}/decision", data={
        "version": load(case.number).version, "decision": "approve", "public_reason": "All good"})
    assert refused.status_code == 409 and f"#{receipt.id}" in refused.text and "All good" in refused.text
    assert load(case.number).status == CaseStatus.in_review and not trail(app, case.number, "case.approved")

    client.post("/agent/sign-out")  # another agent, and an auditor, may look but not judge
    outsider = make_agent(Role.agent, email="outsider@example.test")
    client.post("/agent/sign-in", data={"email": outsider.email, "password": "correct horse battery"})
    assert 'class="verdict-form"' not in client.get(f"/cases/{case.number}/evidence/{receipt.id}").text
    assert client.post(url, data={"version": load(case.number).version, "verdict": "accepted"}).status_code == 403
    assert client.post(f"/cases/{case.number}/evidence/999999/verdict",
                       data={"version": load(case.number).version, "verdict": "accepted"}).status_code == 404
    assert stored(app, Evidence, receipt.id).verdict.value == "needs_upload"


def test_the_checklist_waits_for_every_item_and_the_case_page_shows_it(app, client, held_case, load, claimant, photo):
    case, token, agent, receipt, _box = held_case(language="ru")
    client.post(f"/cases/{case.number}/evidence/{receipt.id}/verdict", data={
        "version": load(case.number).version, "verdict": "needs_upload", "reason": "imei_not_visible"})
    form = client.get(f"/cases/{case.number}").text
    assert 'id="auto-requested"' in form and f"#{receipt.id}" in form
    asked = client.post(f"/cases/{case.number}/request-information", data={
        "version": load(case.number).version, "reason_sim_proof": "a bill with your name",
        "question": "Where did you buy the phone?"})
    assert asked.status_code == 302 and load(case.number).status == CaseStatus.waiting_on_claimant
    upload_again, sim, question = items(app, case.number)
    assert (upload_again.evidence_id, upload_again.evidence_kind, upload_again.reason.value) == (
        receipt.id, EvidenceKind.receipt, "imei_not_visible")
    assert (sim.evidence_kind, sim.note, question.note) == (EvidenceKind.sim_proof, "a bill with your name",
                                                            "Where did you buy the phone?")
    [mail] = [sent for sent in read_outbox(app.config) if sent.to == "claimant@example.test"]
    assert "Не виден IMEI" in mail.body and "Where did you buy the phone?" in mail.body
    assert f"/track?number={case.number}" in mail.body
    [requested] = trail(app, case.number, "checklist.requested")
    assert [entry["id"] for entry in requested.after["items"]] == [upload_again.id, sim.id, question.id]

    browser = claimant(case, token)
    page = browser.get("/track/case?lang=ru").text
    assert page.count('class="slot open"') == 3 and "Не виден IMEI" in page and "0 из 3" in page
    response = browser.post("/track/case/checklist", data=slot_post(
        {}, {f"item-{upload_again.id}": (photo((10, 10, 200)), "receipt-again.jpg")}), content_type="multipart/form-data")
    assert response.status_code == 303 and load(case.number).status == CaseStatus.waiting_on_claimant
    replacement = stored(app, RequestedItem, upload_again.id).answer_evidence_id
    assert stored(app, Evidence, receipt.id).replaced_by_id == replacement  # the old file keeps its verdict
    assert stored(app, Evidence, receipt.id).verdict.value == "needs_upload"
    assert stored(app, Evidence, replacement).kind == EvidenceKind.receipt and stored(app, Evidence, replacement).verdict is None

    browser.post("/track/case/checklist", data={f"answer-{question.id}": "In a shop in Milan"})
    assert load(case.number).status == CaseStatus.waiting_on_claimant
    agent_page = client.get(f"/cases/{case.number}").text
    assert agent_page.count('data-status="answered"') == 2 and agent_page.count('data-status="open"') == 1
    assert "In a shop in Milan" in agent_page and f"replaced by #{replacement}" in agent_page

    browser.post("/track/case/checklist", data=slot_post(
        {}, {f"item-{sim.id}": (photo((200, 10, 10)), "bill.jpg")}), content_type="multipart/form-data")
    assert load(case.number).status == CaseStatus.in_review
    assert len(trail(app, case.number, "checklist.answered")) == 3
    assert "Send</button>" not in browser.get("/track/case").text.split('id="checklist"')[1].split("</section>")[0]
    assert 'id="uploads-outstanding"' not in client.get(f"/cases/{case.number}").text


def test_hostile_answers_are_refused_and_write_nothing(app, client, held_case, load, claimant, make_case, photo):
    case, token, _agent, receipt, _box = held_case()
    client.post(f"/cases/{case.number}/request-information", data={
        "version": load(case.number).version, "reason_receipt": "a clearer receipt", "reason_sim_proof": "a bill",
        "question": "Which shop?"})
    receipt_item, sim_item, question = items(app, case.number)

    other, other_token = make_case(status=CaseStatus.in_review)  # someone else's case and request
    with app.test_request_context(), db.transaction(app) as session:
        stranger = session.get(Case, other.id)
        cases.request_information(session, stranger, requested={"id_document": "SECRET-NOTE-OF-OTHER-CASE"},
                                  body="x", version=stranger.version, actor=cases.audit.Actor("agent", "1", "A"))
    [foreign] = items(app, other.number)

    browser = claimant(case, token)
    stolen = browser.post("/track/case/checklist", data={f"answer-{foreign.id}": "mine now",
                                                         f"answer-{question.id}": "Shop A"})
    assert stolen.status_code == 404 and "SECRET-NOTE-OF-OTHER-CASE" not in stolen.text
    assert stored(app, RequestedItem, foreign.id).status.value == "open"
    assert stored(app, RequestedItem, question.id).status.value == "open"  # all or nothing
    assert browser.post("/track/case/checklist", data={}).status_code == 422
    typed = "A long story. " * 400  # over the limit: refused, and the words come back in the form
    too_long = browser.post("/track/case/checklist", data={f"answer-{question.id}": typed})
    assert too_long.status_code == 422 and typed.strip() in too_long.text
    assert stored(app, RequestedItem, question.id).status.value == "open"

    hostile = browser.post("/track/case/checklist", data=slot_post(
        {f"answer-{question.id}": "Shop A"}, {f"item-{receipt_item.id}": (SVG, "receipt.svg")}),
        content_type="multipart/form-data")
    assert hostile.status_code == 200  # the answer is kept, the file is named as refused beside its slot
    assert 'role="alert"' in hostile.text.split(f'id="slot-{receipt_item.id}"')[1].split("</li>")[0]
    assert stored(app, RequestedItem, question.id).status.value == "answered"
    assert stored(app, RequestedItem, receipt_item.id).status.value == "open"

    replay = browser.post("/track/case/checklist", data={f"answer-{question.id}": "Shop B"})
    assert replay.status_code == 409 and stored(app, RequestedItem, question.id).answer_text == "Shop A"
    browser.post("/track/case/checklist", data=slot_post({}, {
        f"item-{receipt_item.id}": (photo((1, 2, 3)), "r.jpg"), f"item-{sim_item.id}": (photo((3, 2, 1)), "s.jpg")}),
        content_type="multipart/form-data")
    assert load(case.number).status == CaseStatus.in_review
    evidence_before = len(trail(app, case.number, "evidence.added"))
    old_form = browser.post("/track/case/checklist", data=slot_post({}, {
        f"item-{sim_item.id}": (photo((9, 9, 9)), "again.jpg")}), content_type="multipart/form-data")
    assert old_form.status_code == 409 and len(trail(app, case.number, "evidence.added")) == evidence_before
    assert len(trail(app, case.number, "checklist.answered")) == 3


def test_a_closed_case_cancels_its_open_items_and_an_old_form_cannot_answer_them(app, client, held_case, load,
                                                                                 claimant, photo):
    case, token, agent, _receipt, _box = held_case()
    client.post(f"/cases/{case.number}/request-information", data={
        "version": load(case.number).version, "reason_receipt": "a clearer receipt"})
    [old_item] = items(app, case.number)
    with app.app_context(), db.transaction(app) as session:
        cases.sweep(session, config=app.config, now=utcnow() + timedelta(days=365))
    assert load(case.number).status == CaseStatus.closed
    assert stored(app, RequestedItem, old_item.id).status.value == "cancelled"
    assert trail(app, case.number, "checklist.cancelled")[0].after == {"items": [old_item.id]}

    browser = claimant(case, token)
    closed = browser.post("/track/case/checklist", data=slot_post(
        {}, {f"item-{old_item.id}": (photo(), "late.jpg")}), content_type="multipart/form-data")
    assert closed.status_code == 422 and "closed" in closed.text

    with app.test_request_context(), db.transaction(app) as session:  # reopened, and asked again
        reopened = cases.get_by_number(session, case.number)
        filing.reopen(session, reopened, app.config)
        cases.claim(session, reopened, agent_id=agent.id, version=reopened.version,
                    actor=cases.audit.Actor("agent", str(agent.id), agent.name))
        cases.request_information(session, reopened, requested={"box_photo": "the label"}, body="x",
                                  version=reopened.version, actor=cases.audit.Actor("agent", str(agent.id), agent.name))
    cancelled = browser.post("/track/case/checklist", data=slot_post(
        {}, {f"item-{old_item.id}": (photo(), "late.jpg")}), content_type="multipart/form-data")
    assert cancelled.status_code == 409 and "no longer open" in cancelled.text
    assert stored(app, RequestedItem, old_item.id).status.value == "cancelled"
    page = browser.get("/track/case").text
    assert f'id="slot-{old_item.id}"' not in page and page.count('class="slot open"') == 1


def test_the_general_upload_and_reply_answer_matching_items(app, held_case, client, load):
    """The API and the general forms answer the checklist too: a file of an asked-for kind, a reply to a question."""
    case, _token, _agent, _receipt, _box = held_case()
    client.post(f"/cases/{case.number}/request-information", data={
        "version": load(case.number).version, "reason_id_document": "your passport", "question": "When?"})
    with app.test_request_context(), db.transaction(app) as session:
        filing.claimant_reply(session, cases.get_by_number(session, case.number), "Last spring.")
    assert load(case.number).status == CaseStatus.waiting_on_claimant
    document, question = items(app, case.number)
    assert (question.status.value, question.answer_text, document.status.value) == ("answered", "Last spring.", "open")
