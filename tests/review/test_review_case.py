"""Claiming, collisions, the conversation, requests for information, decisions, evidence files."""
from __future__ import annotations

import email
from pathlib import Path

from sqlmodel import select

from support import db, evidence, filing, personal
from support.cases import get_by_number
from support.directory import directory
from support.models import AuditEvent, CaseKind, CaseStatus, EvidenceKind, Message, Role


def trail(app, number) -> list[tuple[str, dict | None]]:
    with app.app_context(), db.transaction(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.case_number == number).order_by(AuditEvent.seq))
        return [(event.action, event.after) for event in personal.reveal(session, list(events))]  # values, not tokens


def outbox(app) -> list[email.message.EmailMessage]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]


def test_claim_release_and_supervisor_reassign(app, client, login, make_agent, make_case, load):
    case, _ = make_case()
    agent = login(Role.agent)
    assert client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version}).status_code == 302
    assert (load(case.number).assignee_id, load(case.number).status) == (agent.id, CaseStatus.in_review)

    other = make_agent(Role.agent, name="Olga Other")
    client.post("/agent/sign-out")
    login(Role.agent)
    page = client.get(f"/cases/{case.number}").text
    assert "has claimed this case" in page and "Claim</button>" not in page
    assert client.post(f"/cases/{case.number}/reassign", data={"version": load(case.number).version,
                                                              "agent_id": other.id}).status_code == 403
    assert client.post(f"/cases/{case.number}/release", data={"version": load(case.number).version}).status_code == 403
    refused = client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version}, follow_redirects=True)
    assert "has this case" in refused.text and load(case.number).assignee_id == agent.id

    client.post("/agent/sign-out")
    login(Role.supervisor)
    response = client.post(f"/cases/{case.number}/reassign", data={"version": load(case.number).version,
                                                                    "agent_id": other.id})
    assert response.status_code == 302 and load(case.number).assignee_id == other.id
    client.post(f"/cases/{case.number}/release", data={"version": load(case.number).version})
    assert (load(case.number).assignee_id, load(case.number).status) == (None, CaseStatus.new)
    actions = [action for action, _ in trail(app, case.number)]
    assert actions.count("case.claimed") == 1 and "case.reassigned" in actions and "case.released" in actions
    assert actions.count("case.transition") >= 3  # new -> in_review, -> new, and filing's own


def test_two_agents_saving_at_once_one_wins_and_nothing_is_lost(app, client, login, make_case, load):
    case, _ = make_case(status=CaseStatus.in_review)
    login(Role.agent)
    seen = load(case.number).version  # both agents opened the page at this version
    first = client.post(f"/cases/{case.number}/messages", data={"version": seen, "body": "First note",
                                                                 "visibility": "internal"})
    assert first.status_code == 302
    second = client.post(f"/cases/{case.number}/messages", data={"version": seen, "body": "Second agent's careful text",
                                                                  "visibility": "internal"})
    assert second.status_code == 409
    assert "This case changed while you were looking" in second.text
    assert "Second agent&#39;s careful text" in second.text  # the draft is shown back
    with app.app_context(), db.transaction(app) as session:
        bodies = [m.body for m in session.exec(select(Message).where(Message.case_id == case.id))]
    assert bodies == ["First note"]
    stale_decision = client.post(f"/cases/{case.number}/decision", data={"version": seen, "decision": "approve",
                                                                          "public_reason": "ok"})
    assert stale_decision.status_code == 409 and load(case.number).status == CaseStatus.in_review


def test_the_conflict_page_is_translated(client, login, make_case):
    case, _ = make_case(status=CaseStatus.in_review)
    login(Role.agent)
    response = client.post(f"/cases/{case.number}/messages?lang=ru", data={"version": 0, "body": "x"})
    assert response.status_code == 409 and "Пока вы смотрели, обращение изменилось" in response.text


def test_request_information_then_claimant_evidence_brings_it_back_with_a_notice(app, client, login, make_case,
                                                                                load, photo):
    case, _ = make_case(kind=CaseKind.device_unbind, language="it", contact_email="cliente@example.test")
    agent = login(Role.agent, email="assignee@example.test")
    client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version})
    missing = client.post(f"/cases/{case.number}/request-information", data={"version": load(case.number).version})
    assert missing.status_code == 422 and "at least one kind of evidence" in missing.text
    response = client.post(f"/cases/{case.number}/request-information", data={
        "version": load(case.number).version, "reason_box_photo": "the box photo must show the IMEI label",
        "reason_receipt": "receipt unreadable"})
    assert response.status_code == 302 and load(case.number).status == CaseStatus.waiting_on_claimant
    sent = outbox(app)[-1]
    assert sent["To"] == "cliente@example.test" and "Ci servono" in sent["Subject"]
    assert "the box photo must show the IMEI label" in sent.get_content()
    assert "Foto dell'etichetta della scatola" in sent.get_content()

    with app.test_request_context(), db.transaction(app) as session:
        waiting = get_by_number(session, case.number)
        upload = evidence.Upload(filename="box.jpg", data=photo((5, 90, 5)), kind=EvidenceKind.box_photo)
        filing.add_claimant_evidence(session, waiting, [upload], app.config)
    assert load(case.number).status == CaseStatus.waiting_on_claimant  # the receipt is still missing
    assert not any(message["To"] == agent.email for message in outbox(app))
    with app.test_request_context(), db.transaction(app) as session:
        waiting = get_by_number(session, case.number)
        upload = evidence.Upload(filename="receipt.jpg", data=photo((90, 5, 5)), kind=EvidenceKind.receipt)
        filing.add_claimant_evidence(session, waiting, [upload], app.config)
    assert load(case.number).status == CaseStatus.in_review
    assert any(message["To"] == agent.email for message in outbox(app))
    assert 'class="badge replied"' in client.get("/queue?assignee=me").text
    assert 'id="claimant-replied"' in client.get(f"/cases/{case.number}").text
    client.post(f"/cases/{case.number}/messages", data={"version": load(case.number).version, "body": "Thanks!"})
    assert 'id="claimant-replied"' not in client.get(f"/cases/{case.number}").text


def test_approve_and_reject_record_the_decision_and_the_claimant_reads_the_reason(app, client, login, make_case, load):
    approve, _ = make_case(status=CaseStatus.in_review)
    reject, _ = make_case(status=CaseStatus.in_review, language="ru")
    agent = login(Role.agent)
    for case in (approve, reject):
        client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version})
    assert client.post(f"/cases/{approve.number}/decision", data={"version": load(approve.number).version,
                                                                   "decision": "approve"}).status_code == 422
    client.post(f"/cases/{approve.number}/decision", data={"version": load(approve.number).version, "decision": "approve",
                                                           "public_reason": "Your proof is complete."})
    client.post(f"/cases/{reject.number}/decision", data={"version": load(reject.number).version, "decision": "reject",
                                                          "public_reason": "The receipt is for another phone.",
                                                          "internal_note": "Receipt IMEI differs."})
    approved, rejected = load(approve.number), load(reject.number)
    assert (approved.status, approved.decision, approved.decided_by_id) == (CaseStatus.approved, "approved", agent.id)
    assert (rejected.status, rejected.decision_reason, rejected.decision_note) == (
        CaseStatus.rejected, "The receipt is for another phone.", "Receipt IMEI differs.")
    assert ("case.rejected", {"decision": "rejected", "kind": "device_unbind"}) in trail(app, reject.number)
    assert ("case.transition", {"status": "approved"}) in trail(app, approve.number)
    assert "Решение" in outbox(app)[-1]["Subject"]
    assert "Receipt IMEI differs." not in outbox(app)[-1].get_content()  # the internal note stays inside


def test_evidence_is_served_only_to_agents_and_the_original_download_is_audited(app, client, login, make_case,
                                                                               attach, photo):
    case, _ = make_case()
    item = attach(case.number, EvidenceKind.receipt, photo((1, 200, 3)))
    base = f"/cases/{case.number}/evidence/{item.id}"
    assert client.get(f"{base}/original").status_code == 302  # anonymous: to the sign-in page
    login(Role.auditor)
    thumbnail = client.get(f"{base}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype.startswith("image/")
    assert client.get(f"{base}/viewable").status_code == 200
    assert 'data-viewer' in client.get(base).text
    original = client.get(f"{base}/original")
    assert original.status_code == 200 and original.data == photo((1, 200, 3))
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.headers["Content-Disposition"].startswith("attachment")
    downloads = [after for action, after in trail(app, case.number) if action == "evidence.original_downloaded"]
    assert downloads == [{"sha256": item.sha256, "kind": "receipt",
                          "filename": f"{case.number}-evidence-{item.id}-receipt.jpg"}]
    other, _ = make_case()
    assert client.get(f"/cases/{other.number}/evidence/{item.id}/original").status_code == 404


def decide(client, load, number, decision="approve", **headers):
    return client.post(f"/cases/{number}/decision", data={"version": load(number).version, "decision": decision,
                                                         "public_reason": "Your proof is complete."}, **headers)


def test_only_the_holder_or_a_supervisor_decides(app, client, login, make_agent, make_case, load):
    unheld, _ = make_case(status=CaseStatus.in_review)
    held, _ = make_case(status=CaseStatus.in_review)
    holder = make_agent(Role.agent, name="Hana Holder")
    with app.app_context(), db.transaction(app) as session:
        get_by_number(session, held.number).assignee_id = holder.id
    login(Role.agent)
    for number in (unheld.number, held.number):
        refused = decide(client, load, number)
        assert refused.status_code == 403 and "Only the agent who holds" in refused.text
        assert load(number).status == CaseStatus.in_review and load(number).decision is None
    client.post("/agent/sign-out")
    supervisor = login(Role.supervisor)
    assert decide(client, load, held.number).status_code == 302
    assert (load(held.number).status, load(held.number).decided_by_id) == (CaseStatus.approved, supervisor.id)


def test_a_lost_or_stolen_device_blocks_the_approval_not_the_rejection(app, client, login, make_case, make_device,
                                                                        load):
    device = make_device()
    case, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1)
    login(Role.agent)
    client.post(f"/cases/{case.number}/claim", data={"version": load(case.number).version})
    with app.app_context(), db.transaction(app) as session:  # the vendor's feed flags it after filing
        accounts = directory(session, app.config)
        accounts.set_lost_or_stolen(accounts.find_device(device.imei1), True)
    sent_before = len(outbox(app))
    refused = decide(client, load, case.number)
    assert refused.status_code == 409 and "cannot be approved" in refused.text
    assert "lost or stolen" in refused.text
    assert load(case.number).status == CaseStatus.in_review and len(outbox(app)) == sent_before
    assert "case.approved" not in [action for action, _ in trail(app, case.number)]
    assert decide(client, load, case.number, decision="reject").status_code == 302
    assert load(case.number).status == CaseStatus.rejected
