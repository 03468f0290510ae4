"""The evidence page's values and an agent's corrections of them, through the routes, with the
attacks: no CSRF token, no agent, another case's value, a closed case, bad input, a race."""
from __future__ import annotations

import re
import threading

import pytest
from sqlmodel import select

from support import audit, create_app, db, imei, personal
from support.cases import get_by_number
from support.evidence.analysis import Reading
from support.evidence.analysis.run import record
from support.evidence.analysis.found import Found
from support.models import (AnalysisStatus, AuditEvent, CaseKind, CaseStatus, EvidenceKind, ExtractedKind, ExtractedSource,
                            ExtractedValue, Role)
from support.review import corrections

PASSWORD = "correct horse battery"


@pytest.fixture
def read_box(app, make_case, attach, photo):
    """``read_box(imei_read, **case_fields) -> (case, evidence_id, value_id)``: a box photo whose
    analysis read ``imei_read`` (a barcode with a box), recorded as the worker records it."""

    def make(imei_read: str, status: CaseStatus = CaseStatus.in_review, **fields):
        case, _ = make_case(status=status, **fields)
        item = attach(case.number, EvidenceKind.box_photo, photo((120, 130, 140)))
        analyse(app, item.id, imei_read)
        with app.app_context(), db.transaction(app) as session:
            value = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == item.id)).one()
            return case, item.id, value.id

    return make


def analyse(app, evidence_id: int, imei_read: str) -> None:
    """One analysis run that read ``imei_read`` from the box label (as the worker stores it)."""
    reading = Reading([Found(ExtractedKind.imei, imei_read, f"IMEI {imei_read}", ExtractedSource.barcode,
                             (4, 6, 40, 20), None, 0.93)], is_screenshot=False)
    with app.test_request_context(), db.transaction(app) as session:
        record(session, evidence_id, reading)


def check(app, number: str, code: str) -> str:
    with app.app_context(), db.transaction(app) as session:
        return next(item["result"] for item in get_by_number(session, number).checks if item["code"] == code)


def value_row(app, value_id: int) -> ExtractedValue:
    with app.app_context(), db.transaction(app) as session:
        return session.get(ExtractedValue, value_id)


def events(app, number: str, action: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return personal.reveal(session, list(session.exec(  # with the personal values they stand for
            select(AuditEvent).where(AuditEvent.case_number == number, AuditEvent.action == action)
            .order_by(AuditEvent.seq))))


def test_an_agent_corrects_a_misread_imei_the_checks_follow_and_a_reanalysis_keeps_it(app, client, login, read_box):
    claimed, misread = imei.generate(), imei.generate()
    case, evidence_id, value_id = read_box(misread, imei1=claimed, purchase_date=None)
    assert check(app, case.number, "label_imei_match") == "fail"
    agent = login(Role.agent)
    page = client.get(f"/cases/{case.number}/evidence/{evidence_id}").text
    assert misread in page and "differs from the claim" in page and f'data-box-for="{value_id}"' in page
    assert claimed in page  # the claim's IMEI beside the picture

    response = client.post(f"/cases/{case.number}/evidence/{evidence_id}/values/{value_id}",
                           data={"value": claimed[:5] + " " + claimed[5:], "seen": misread})
    assert response.status_code == 302
    stored = value_row(app, value_id)
    assert (stored.value, stored.corrected_value, stored.corrected_by_id) == (misread, claimed, agent.id)
    assert stored.corrected_at is not None
    assert check(app, case.number, "label_imei_match") == "pass"  # the checks ran again at once
    [event] = events(app, case.number, "evidence.value_corrected")
    assert (event.before["value"], event.after["value"], event.subject_id) == (misread, claimed, str(evidence_id))
    assert event.actor_id == str(agent.id)
    page = client.get(f"/cases/{case.number}/evidence/{evidence_id}").text
    assert "matches the claim" in page and f"corrected (read as {misread})" in page
    case_page = client.get(f"/cases/{case.number}").text
    assert f"corrected the IMEI read from file {evidence_id}: {misread} → {claimed}" in case_page  # timeline

    analyse(app, evidence_id, misread)  # the worker reads the same label again
    analyse(app, evidence_id, imei.generate())  # or reads another misread
    with app.app_context(), db.transaction(app) as session:
        rows = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence_id)).all()
    assert [row.corrected_value for row in rows if row.id == value_id] == [claimed]
    # the other misread is a new reading the agent has not looked at yet: it differs, the check says so
    assert check(app, case.number, "label_imei_match") == "pass"


def test_bad_corrections_are_refused_in_the_agents_language_and_write_nothing(app, client, login, read_box, make_case,
                                                                               attach, photo):
    claimed, misread = imei.generate(), imei.generate()
    case, evidence_id, value_id = read_box(misread, imei1=claimed)
    url = f"/cases/{case.number}/evidence/{evidence_id}/values/{value_id}"
    assert client.post(url, data={"value": claimed, "seen": misread}).status_code == 302  # anonymous: sign in
    login(Role.auditor)
    assert client.post(url, data={"value": claimed, "seen": misread}).status_code == 403  # auditors only read
    client.post("/agent/sign-out")
    login(Role.agent)

    wrong_digit = claimed[:14] + str((int(claimed[14]) + 1) % 10)
    refused = client.post(url, data={"value": wrong_digit, "seen": misread})
    assert refused.status_code == 422 and "one digit is probably mistyped" in refused.text
    assert f'value="{wrong_digit}"' in refused.text  # what was typed is kept
    too_long = client.post(url, data={"value": "1" * 16 + "0", "seen": misread})
    assert too_long.status_code == 422

    other, _ = make_case(status=CaseStatus.in_review)
    foreign = attach(other.number, EvidenceKind.box_photo, photo((10, 20, 30)))
    analyse(app, foreign.id, imei.generate())
    with app.app_context(), db.transaction(app) as session:
        foreign_value = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == foreign.id)).one()
    # another case's value through this case's evidence, and another case's evidence through this case
    assert client.post(f"/cases/{case.number}/evidence/{evidence_id}/values/{foreign_value.id}",
                       data={"value": claimed, "seen": foreign_value.value}).status_code == 404
    assert client.post(f"/cases/{case.number}/evidence/{foreign.id}/values/{foreign_value.id}",
                       data={"value": claimed, "seen": foreign_value.value}).status_code == 404
    assert client.post(f"/cases/{case.number}/evidence/{foreign.id}/values", data={"value": claimed}).status_code == 404

    stale = client.post(url, data={"value": claimed, "seen": imei.generate()})  # someone changed it meanwhile
    assert stale.status_code == 409 and "changed while you were looking" in stale.text
    assert value_row(app, value_id).corrected_value is None and value_row(app, foreign_value.id).corrected_value is None
    assert events(app, case.number, "evidence.value_corrected") == []
    assert check(app, case.number, "label_imei_match") == "fail"
    russian = client.post(url + "?lang=ru", data={"value": "12345", "seen": misread})  # the agent's language
    assert russian.status_code == 422 and "Слишком коротко: в IMEI 15 цифр" in russian.text


def test_a_closed_case_keeps_its_evidence_as_decided(app, client, login, read_box):
    claimed, misread = imei.generate(), imei.generate()
    case, evidence_id, value_id = read_box(misread, imei1=claimed)
    with app.app_context(), db.transaction(app) as session:
        from support import cases
        cases.transition(session, get_by_number(session, case.number), CaseStatus.rejected,
                         actor=audit.Actor("system", None, "test"))
    login(Role.supervisor)
    page = client.get(f"/cases/{case.number}/evidence/{evidence_id}").text
    assert "Correct this value" not in page and "Add an IMEI" not in page  # nothing offered
    refused = client.post(f"/cases/{case.number}/evidence/{evidence_id}/values/{value_id}",
                          data={"value": claimed, "seen": misread})
    assert refused.status_code == 409 and "no longer worked" in refused.text
    added = client.post(f"/cases/{case.number}/evidence/{evidence_id}/values", data={"value": claimed})
    assert added.status_code == 409
    assert value_row(app, value_id).corrected_value is None
    with app.app_context(), db.transaction(app) as session:  # kept as refused attempts, outside the case's own trail
        kept = session.exec(select(AuditEvent).where(AuditEvent.action == "refused.case_closed",
                                                     AuditEvent.subject_id == case.number)).all()
    assert len(kept) == 2


def test_an_agent_adds_an_imei_the_reader_missed(app, client, login, read_box):
    claimed, misread = imei.generate(), imei.generate()
    case, evidence_id, _value_id = read_box(misread, imei1=claimed, imei2=imei.generate())
    assert check(app, case.number, "label_imei_match") == "fail"
    agent = login(Role.agent)
    url = f"/cases/{case.number}/evidence/{evidence_id}/values"
    bad = client.post(url, data={"value": "35 6938 0356 4380"})
    assert bad.status_code == 422 and 'value="35 6938 0356 4380"' in bad.text
    assert client.post(url, data={"value": claimed}).status_code == 302
    again = client.post(url, data={"value": claimed})
    assert again.status_code == 422 and "already listed" in again.text
    with app.app_context(), db.transaction(app) as session:
        added = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence_id,
                                                          ExtractedValue.source == ExtractedSource.agent)).one()
    assert (added.current, added.corrected_by_id, added.box) == (claimed, agent.id, None)
    [event] = events(app, case.number, "evidence.value_added")
    assert event.after["value"] == claimed
    assert check(app, case.number, "label_imei_match") == "pass"  # the label shows the claimed IMEI now
    analyse(app, evidence_id, misread)  # a re-analysis keeps the added IMEI
    assert value_row(app, added.id).current == claimed
    assert "added by an agent" in client.get(f"/cases/{case.number}/evidence/{evidence_id}").text


def test_two_agents_correcting_at_once_one_wins_the_other_sees_it(app, read_box, make_agent):
    claimed, misread = imei.generate(), imei.generate()
    case, evidence_id, value_id = read_box(misread, imei1=claimed)
    first, second = make_agent(Role.agent, name="First"), make_agent(Role.agent, name="Second")
    locked, results = threading.Event(), {}

    def correct(agent, value, after_lock=None):
        try:
            with app.test_request_context(), db.transaction(app) as session:
                current = get_by_number(session, case.number)
                corrections.correct(session, current, evidence_id, value_id, value, seen=misread, agent_id=agent.id,
                                    actor=audit.Actor("agent", str(agent.id), agent.name), config=app.config)
                if after_lock:
                    after_lock()
            results[agent.name] = "saved"
        except corrections.CorrectionRefused as refusal:
            results[agent.name] = refusal.code

    other_imei = imei.generate()
    racer = threading.Thread(target=correct, args=(second, other_imei))

    def start_the_second_while_the_first_holds_the_row():
        locked.set()
        racer.start()

    correct(first, claimed, after_lock=start_the_second_while_the_first_holds_the_row)
    racer.join()
    assert results == {"First": "saved", "Second": "stale"}
    assert value_row(app, value_id).corrected_value == claimed
    assert len(events(app, case.number, "evidence.value_corrected")) == 1


def test_a_correction_without_a_csrf_token_is_refused(app_config, make_agent):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    try:
        agent_client = app.test_client()
        with app.app_context(), db.transaction(app) as session:
            from support import cases
            claim = cases.Claim(kind=CaseKind.device_unbind, claimant_name="C", contact_email="c@example.test", language="en",
                                imei1=imei.generate(), hint_email="old@example.test")
            case, _token = cases.file_case(session, claim=claim, config=app.config)
            number = case.number
        agent = make_agent(Role.agent)
        form = agent_client.get("/agent/sign-in").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        assert agent_client.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD,
                                                         "csrf_token": token}).status_code == 302
        response = agent_client.post(f"/cases/{number}/evidence/1/values/1", data={"value": imei.generate()})
        assert response.status_code == 400
    finally:
        db.engine(app).dispose()


def test_the_case_page_says_analysing_then_the_count(app, client, login, make_case, attach, photo):
    case, _ = make_case(status=CaseStatus.in_review)
    waiting = attach(case.number, EvidenceKind.box_photo, photo((1, 2, 3)))
    unreadable = attach(case.number, EvidenceKind.box_photo, photo((4, 5, 6)))
    with app.app_context(), db.transaction(app) as session:
        session.get(type(waiting), waiting.id).analysis_status = AnalysisStatus.pending
        session.get(type(unreadable), unreadable.id).analysis_status = AnalysisStatus.failed
    login(Role.auditor)
    page = client.get(f"/cases/{case.number}").text
    assert f'data-analysis-for="{waiting.id}"' in page and "analysing…" in page and "could not be read" in page
    status = client.get(f"/cases/{case.number}/evidence/{waiting.id}/analysis")
    assert status.json == {"status": "pending", "label": "analysing…", "values": 0}
    assert 'data-analysis-poll' in client.get(f"/cases/{case.number}/evidence/{waiting.id}").text
    analyse(app, waiting.id, imei.generate())
    assert client.get(f"/cases/{case.number}/evidence/{waiting.id}/analysis").json["label"] == "1 value read"
    assert "1 value read" in client.get(f"/cases/{case.number}").text
    assert "1 значение прочитано" in client.get(f"/cases/{case.number}?lang=ru").text
