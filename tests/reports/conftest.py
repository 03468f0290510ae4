"""Fixtures for the report tests: a case with everything a report shows."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from support import audit, cases, db
from support.models import (Action, ActionKind, ActionStatus, CaseKind, CaseStatus, Evidence, EvidenceKind,
                            MessageVisibility, Role, utcnow)
from support.storage import for_app

from report_reading import INTERNAL_NOTE, PUBLIC_MESSAGE, RECEIPT_RED


def receipt_jpeg() -> bytes:
    """A phone photo of a till receipt: portrait 2400x3200, a red frame, large text."""
    image = Image.new("RGB", (2400, 3200), (246, 244, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 2399, 3199), outline=RECEIPT_RED, width=60)
    lines = ["ELECTRO SHOP MILANO", "RECEIPT 0042", "REDMI NOTE 13 8/256", "IMEI 861234567890128", "TOTAL 299.00 EUR"]
    for number, line in enumerate(lines):
        draw.text((200, 300 + number * 260), line, fill=(15, 15, 15), font_size=150)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=88)
    return output.getvalue()


def box_png() -> bytes:
    image = Image.new("RGBA", (900, 600), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 100, 800, 500), fill=(20, 90, 200, 255))
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


@dataclass
class RichCase:
    number: str
    receipt_sha256: str
    agent_names: tuple[str, str, str]


@pytest.fixture
def rich_case(app, make_case, make_agent, make_account, make_device) -> RichCase:
    """An approved, executed force-unbind case: directory facts, evidence, messages, checks, an action, a checkpoint."""
    requester, approver = make_agent(Role.agent, name="Alex Requester"), make_agent(Role.supervisor, name="Sam Approver")
    account = make_account(email="owner@example.test", phone="+393331234567")
    device = make_device(account=account, model="Redmi Note 13", serial="12345/A1234567")
    case, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review, imei1=device.imei1,
                             shop="Electro Shop Milano", model="Redmi Note 13")
    store = for_app(app)
    receipt = receipt_jpeg()
    receipt_sha = store.store("originals", receipt)
    store.store("viewable", receipt)
    box = box_png()
    box_sha = store.store("originals", box)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256=receipt_sha, viewable_sha256=receipt_sha,
                             media_type="image/jpeg", size=len(receipt), width=2400, height=3200,
                             original_name="receipt.jpg"))
        session.add(Evidence(case_id=case.id, kind=EvidenceKind.box_photo, sha256=box_sha, media_type="image/png",
                             size=len(box), width=900, height=600, original_name="box.png"))
        claimant = audit.Actor("claimant", case.number, case.claimant_name)
        agent = audit.Actor("agent", str(requester.id), requester.name)
        cases.add_message(session, case, body=PUBLIC_MESSAGE, actor=agent)
        cases.add_message(session, case, body=INTERNAL_NOTE, actor=agent, visibility=MessageVisibility.internal)
        cases.add_message(session, case, body="Here it is.", actor=claimant)
        case.checks = [{"code": "imei_on_receipt", "result": "pass", "detail": "IMEI 1 is printed on the receipt", "links": []},
                       {"code": "device_lost_or_stolen", "result": "pass", "detail": "not reported", "links": []}]
        now = utcnow()
        case.decision, case.decision_reason, case.decided_by_id, case.decided_at = (
            "approved", "Receipt and box label match the device.", requester.id, now)
        case.decision_note = "Internal decision note: vendor confirmed the sale"
        session.add(case)
        cases.transition(session, case, CaseStatus.approved, actor=agent)
        session.add(Action(case_id=case.id, kind=ActionKind.force_unbind, status=ActionStatus.executed,
                           target_account_id=account.id, target_device_id=device.id, requested_by_id=requester.id,
                           requested_at=now, approved_by_id=approver.id, approved_at=now + timedelta(minutes=5),
                           not_before=now + timedelta(hours=72), executed_by_id=approver.id,
                           executed_at=now + timedelta(hours=72)))
        audit.checkpoint(session, audit.load_signing_key(app.config, app.instance_path))
    return RichCase(case.number, receipt_sha, (requester.name, approver.name, approver.name))
