"""What a claimant receives holds no one else's data: the claimant's PDF (text and attachment),
the tracking page and the API answer, searched for every third-party value of a case that has them all."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pypdf
import pytest

from support import actions, audit, cases, db, stepup
from support.models import Agent, Case, CaseKind, CaseStatus, MessageVisibility, Role, utcnow

from report_reading import needs_poppler, pdf_text

pytestmark = needs_poppler

AGENT_IP, SUPERVISOR_IP = "203.0.113.77", "198.51.100.23"
INTERNAL_NOTE = "Internal: the seller phoned from a burner, watch this one"
CHECK_DETAIL = "IMEI also claimed by another case"
REPLY = "Thanks, we received your receipt."
CLAIMANT_SAYS = "Here is the box label."


@dataclass
class LeakyCase:
    number: str
    token: str
    #: values the claimant must never receive
    secrets: list[str]


@pytest.fixture
def leaky_case(app, make_case, make_agent, make_account, make_device) -> LeakyCase:
    """A force-unbind case approved by a second supervisor: the old owner (email and phone) was
    notified, another case names the same device, agents with names wrote notes from known IPs."""
    agent = make_agent(Role.agent, name="Olga Agentova")
    supervisor = make_agent(Role.supervisor, name="Pavel Supervisorov")
    owner = make_account(email="old.owner@example.test", phone="+79161234567")
    device = make_device(account=owner, model="Redmi Note 13")
    other, _other_token = make_case(kind=CaseKind.device_unbind, imei1=device.imei1,
                                    contact_email="someone.else@example.test", claimant_name="Ivan Other")
    case, token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review, imei1=device.imei1,
                            hint_email=None, hint_phone="4567")
    agent_actor, agent_origin = audit.Actor("agent", str(agent.id), agent.name), audit.Origin(ip=AGENT_IP)
    with app.app_context(), db.transaction(app) as session:
        row = session.get(Case, case.id)
        cases.add_message(session, row, body=REPLY, actor=agent_actor, origin=agent_origin)
        cases.add_message(session, row, body=INTERNAL_NOTE, actor=agent_actor, origin=agent_origin,
                          visibility=MessageVisibility.internal)
        cases.add_message(session, row, body=CLAIMANT_SAYS, actor=audit.Actor("claimant", row.number, None),
                          origin=audit.Origin(ip="192.0.2.10"))
        row.checks = [{"code": "imei_reused", "result": "warn", "detail": CHECK_DETAIL, "links": [other.number]}]
        row.decision, row.decision_reason = "approved", "The receipt matches the device."
        row.decided_by_id, row.decided_at = agent.id, utcnow()
        row.decision_note = "Internal decision note: checked with the vendor"
        session.add(row)
        cases.transition(session, row, CaseStatus.approved, actor=agent_actor, reason="vendor confirmed the serial",
                         origin=agent_origin)
        requested = actions.request(session, row, requester=session.get(Agent, agent.id),
                                    step_up=stepup.SteppedUp(agent.id, utcnow()), config=app.config,
                                    origin=agent_origin)
        actions.approve(session, requested.action, approver=session.get(Agent, supervisor.id),
                        step_up=stepup.SteppedUp(supervisor.id, utcnow()), config=app.config,
                        origin=audit.Origin(ip=SUPERVISOR_IP))
    secrets = ["old.owner@example.test", "+79161234567", "79161234567", str(owner.id), other.number,
               "someone.else@example.test", "Ivan Other", AGENT_IP, SUPERVISOR_IP, "192.0.2.10", "Olga", "Pavel",
               INTERNAL_NOTE, CHECK_DETAIL, "imei_reused", "Internal decision note", "vendor confirmed", "notified",
               "refused."]
    return LeakyCase(case.number, token, secrets)


def attachments(pdf: bytes) -> dict[str, bytes]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return {name: b"".join(contents) for name, contents in reader.attachments.items()}


def assert_nothing_of_others(text: str, secrets: list[str]) -> None:
    found = [secret for secret in secrets if secret.lower() in text.lower()]
    assert found == [], f"the claimant would receive {found}"


def test_the_claimants_pdf_holds_only_their_own_data(app, runner, client, login, leaky_case, tmp_path):
    output = tmp_path / "claimant.pdf"
    result = runner.invoke(args=["report", leaky_case.number, "-o", str(output), "--for-claimant"])
    assert result.exit_code == 0, result.output
    login(Role.agent, name="Dana Downloader")
    downloaded = client.get(f"/cases/{leaky_case.number}/report.pdf?for_claimant=1")
    assert downloaded.status_code == 200

    for pdf in (output.read_bytes(), downloaded.data):
        text = pdf_text(pdf)
        assert leaky_case.number in text and REPLY in text and CLAIMANT_SAYS in text, "the claimant's own data"
        assert "Support" in text and "The receipt matches the device." in text
        assert "Approved: Force-unbind device." in text, "the steps as neutral sentences"
        assert_nothing_of_others(text, leaky_case.secrets + ["Dana"])
        files = attachments(pdf)
        assert list(files) == ["case-steps.json"]
        steps = json.loads(files["case-steps.json"])
        assert steps["case"] == leaky_case.number
        assert all(set(step) == {"at", "step", "text"} for step in steps["steps"])
        assert {"case.filed", "message.public", "action.approved"} <= {step["step"] for step in steps["steps"]}
        assert_nothing_of_others(files["case-steps.json"].decode(), leaky_case.secrets + ["Dana"])
        metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
        assert_nothing_of_others(" ".join(str(value) for value in metadata.values()), ["Dana", "Olga", "Pavel"])


def test_the_tracking_page_and_the_api_hold_only_the_claimants_data(client, leaky_case):
    assert client.post("/track", data={"number": leaky_case.number, "token": leaky_case.token}).status_code == 303
    page = client.get("/track/case")
    assert page.status_code == 200 and REPLY in page.text and CLAIMANT_SAYS in page.text
    assert_nothing_of_others(page.text, leaky_case.secrets)
    answer = client.get(f"/api/v1/cases/{leaky_case.number}", headers={"Authorization": f"Bearer {leaky_case.token}"})
    assert answer.status_code == 200 and REPLY in answer.text
    assert_nothing_of_others(answer.text, leaky_case.secrets)
