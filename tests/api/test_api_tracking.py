"""Following a case with its bearer token; adding evidence and messages to it."""
from __future__ import annotations

from sqlmodel import select

from support import cases, db
from support.models import AuditEvent, CaseStatus, Evidence, MessageVisibility, Role
from support.web import agent_actor

from .factories import bearer, conforms, files_for, jpeg, multipart, stored_files


def test_no_token_is_401_and_a_wrong_token_is_the_same_404_as_an_unknown_case(client, filed):
    number, token = filed
    missing = client.get(f"/api/v1/cases/{number}")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(missing, "/api/v1/cases/{number}", "get")

    wrong = client.get(f"/api/v1/cases/{number}", headers=bearer(token[:-2] + "xx"))
    unknown = client.get("/api/v1/cases/RD-2000-999999", headers=bearer(token))
    impossible = client.get("/api/v1/cases/RD%00" + "9" * 30, headers=bearer(token))
    assert wrong.status_code == unknown.status_code == impossible.status_code == 404
    assert wrong.json == unknown.json == impossible.json
    conforms(wrong, "/api/v1/cases/{number}", "get")
    assert client.get(f"/api/v1/cases/{number}", headers={"Authorization": f"Basic {token}"}).status_code == 401


def test_a_signed_in_agent_cookie_cannot_act_on_the_api(client, login, filed):
    number, _token = filed
    login(Role.admin)
    assert client.get(f"/api/v1/cases/{number}").status_code == 401
    assert client.post(f"/api/v1/cases/{number}/messages", json={"body": "hi"}).status_code == 401


def test_the_case_shows_status_deadline_public_messages_and_evidence(app, client, make_agent, filed):
    number, token = filed
    agent = agent_actor(make_agent(Role.agent))
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        cases.add_message(session, case, body="Please send the box photo again.", actor=agent)
        cases.add_message(session, case, body="Looks like a reseller.", actor=agent,
                          visibility=MessageVisibility.internal)

    response = client.get(f"/api/v1/cases/{number}", headers={**bearer(token), "Accept-Language": "ru"})
    assert response.status_code == 200
    conforms(response, "/api/v1/cases/{number}", "get")
    body = response.json
    assert (body["number"], body["kind"], body["status"]) == (number, "device_unbind", "submitted")
    assert "почт" in body["status_text"]
    assert body["expected_response_hours"] == app.config["SLA_HOURS_DEVICE_UNBIND"]
    assert body["expected_response_by"]
    assert [message["body"] for message in body["messages"]] == ["Please send the box photo again."]
    assert body["messages"][0]["author"] == "agent"
    assert sorted(item["kind"] for item in body["evidence"]) == ["box_photo", "receipt"]
    assert {item["media_type"] for item in body["evidence"]} == {"image/jpeg", "application/pdf"}
    assert all(len(item["sha256"]) == 64 and item["size"] > 0 for item in body["evidence"])
    assert body["missing_evidence"] == []
    assert response.headers["Cache-Control"] == "no-store"


def test_adding_evidence_stores_it_and_returns_it(app, client, filed):
    number, token = filed
    response = client.post(f"/api/v1/cases/{number}/evidence", headers=bearer(token),
                           data=multipart(files_for(["sim_proof", "other"])), content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    conforms(response, "/api/v1/cases/{number}/evidence", "post")
    assert [item["kind"] for item in response.json["evidence"]] == ["sim_proof", "other"]
    shown = client.get(f"/api/v1/cases/{number}", headers=bearer(token)).json
    assert len(shown["evidence"]) == 4


def test_rejected_evidence_keeps_nothing_of_the_request(app, client, filed):
    number, token = filed
    before = stored_files(app)
    data = multipart({"evidence": [(jpeg(color=(1, 2, 3)), "ok.jpg"), (b"%!PS-Adobe", "x.jpg")],
                      "evidence_kind": ["other", "other"]})
    response = client.post(f"/api/v1/cases/{number}/evidence", headers=bearer(token), data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 415
    conforms(response, "/api/v1/cases/{number}/evidence", "post")
    assert sorted(stored_files(app)) == sorted(before)
    with app.app_context(), db.transaction(app) as session:
        assert len(session.exec(select(Evidence)).all()) == 2


BAD_EVIDENCE = {
    "a kind missing": (files_for(["other"]) | {"evidence_kind": []}, "multipart/form-data", 422, "evidence_kind"),
    "no file": ({"evidence_kind": "other"}, "multipart/form-data", 422, "evidence"),
    "not multipart": ({"body": "x"}, "application/x-www-form-urlencoded", 415, None),
}


def test_bad_evidence_requests(client, filed):
    number, token = filed
    for name, (data, content_type, status, field) in BAD_EVIDENCE.items():
        response = client.post(f"/api/v1/cases/{number}/evidence", headers=bearer(token), data=multipart(data),
                               content_type=content_type)
        assert (response.status_code, response.json["error"]["field"]) == (status, field), name
        conforms(response, "/api/v1/cases/{number}/evidence", "post")


def test_a_reply_is_public_audited_and_moves_a_waiting_case_back_to_review(app, client, make_case):
    case, token = make_case(status=CaseStatus.waiting_on_claimant)
    response = client.post(f"/api/v1/cases/{case.number}/messages", headers=bearer(token),
                           json={"body": "Here is the receipt.\nThanks"})
    assert response.status_code == 201
    conforms(response, "/api/v1/cases/{number}/messages", "post")
    assert response.json["author"] == "claimant"
    shown = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token)).json
    assert shown["status"] == "in_review"
    assert shown["messages"][-1]["body"] == "Here is the receipt.\nThanks"
    with app.app_context(), db.transaction(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "message.public")).one()
        assert event.actor_type == "claimant" and event.case_number == case.number


BAD_MESSAGES = {
    "broken json": (dict(data="{not json", content_type="application/json"), 400, "invalid_json", None),
    "not an object": (dict(json=["a list"]), 400, "invalid_json", None),
    "blank": (dict(json={"body": "   "}), 422, "required", "body"),
    "not text": (dict(json={"body": 42}), 422, "required", "body"),
    "too long": (dict(json={"body": "x" * 5001}), 422, "too_long", "body"),
    "lone surrogate": (dict(json={"body": "bad \ud800 surrogate"}), 422, "invalid", "body"),
    "not json": (dict(data="body=hi", content_type="text/plain"), 415, "json_required", None),
}


def test_bad_messages(client, filed):
    number, token = filed
    for name, (kwargs, status, code, field) in BAD_MESSAGES.items():
        response = client.post(f"/api/v1/cases/{number}/messages", headers=bearer(token), **kwargs)
        assert response.status_code == status, name
        assert (response.json["error"]["code"], response.json["error"]["field"]) == (code, field), name
        conforms(response, "/api/v1/cases/{number}/messages", "post")


def test_a_closed_case_refuses_replies_and_evidence(client, make_case):
    case, token = make_case(status=CaseStatus.closed)
    reply = client.post(f"/api/v1/cases/{case.number}/messages", headers=bearer(token), json={"body": "hello?"})
    assert (reply.status_code, reply.json["error"]["code"]) == (422, "case_closed")
    upload = client.post(f"/api/v1/cases/{case.number}/evidence", headers=bearer(token),
                         data=multipart(files_for(["other"])), content_type="multipart/form-data")
    assert (upload.status_code, upload.json["error"]["code"]) == (422, "case_closed")


def test_the_case_shows_the_checklist_and_the_api_answers_it(app, client, make_agent, make_case):
    """What the agent asked for, item by item, in the claimant's language; adding a file of the
    asked kind and replying answer it, and the case goes back to review when all are answered."""
    from support import verdicts
    from support.models import EvidenceKind, Verdict, VerdictReason

    case, token = make_case(status=CaseStatus.in_review)
    other, other_token = make_case(status=CaseStatus.in_review)
    agent = make_agent(Role.agent)
    actor = agent_actor(agent)
    stored = client.post(f"/api/v1/cases/{case.number}/evidence", headers=bearer(token),
                         data=multipart({"evidence": [(jpeg(color=(1, 2, 3)), "receipt.jpg")], "evidence_kind": ["receipt"]}),
                         content_type="multipart/form-data")
    assert stored.status_code == 201, stored.json
    with app.app_context(), db.transaction(app) as session:
        row = cases.get_by_number(session, case.number)
        blurred = session.get(Evidence, stored.json["evidence"][0]["id"])
        verdicts.set_verdict(session, row, blurred, verdict=Verdict.needs_upload, reason=VerdictReason.unreadable,
                             note=None, agent_id=agent.id, actor=actor)
        cases.request_information(session, row, requested={"box_photo": "The label with both IMEIs."},
                                  body="We need two files and one answer.", version=row.version, actor=actor,
                                  question="Where did you buy the phone?")

    shown = client.get(f"/api/v1/cases/{case.number}", headers={**bearer(token), "Accept-Language": "it"})
    conforms(shown, "/api/v1/cases/{number}", "get")
    items = shown.json["checklist"]
    assert [(item["kind"], item["evidence_kind"], item["status"]) for item in items] == [
        ("upload", "receipt", "open"), ("upload", "box_photo", "open"), ("question", None, "open")]
    assert items[0]["reason"] == "unreadable" and items[0]["reason_text"] == "Il file è illeggibile"
    assert items[0]["replaces_evidence"] == blurred.id
    assert items[1]["note"] == "The label with both IMEIs." and items[2]["note"] == "Where did you buy the phone?"
    assert client.get(f"/api/v1/cases/{other.number}", headers=bearer(other_token)).json["checklist"] == []
    assert client.get(f"/api/v1/cases/{case.number}", headers=bearer(other_token)).status_code == 404

    for kind in ("receipt", "box_photo"):
        added = client.post(f"/api/v1/cases/{case.number}/evidence", headers=bearer(token),
                            data=multipart({"evidence": [(jpeg(color=(len(kind) * 20, 90, 40)), f"{kind}.jpg")],
                                                "evidence_kind": [kind]}), content_type="multipart/form-data")
        assert added.status_code == 201, added.json
    assert client.get(f"/api/v1/cases/{case.number}", headers=bearer(token)).json["status"] == "waiting_on_claimant"
    assert client.post(f"/api/v1/cases/{case.number}/messages", headers=bearer(token),
                       json={"body": "At the shop on Via Roma."}).status_code == 201
    final = client.get(f"/api/v1/cases/{case.number}", headers=bearer(token)).json
    assert [item["status"] for item in final["checklist"]] == ["answered"] * 3
    assert all(item["answered_at"] for item in final["checklist"]) and final["status"] == "in_review"
