"""Demo cases: about 200 cases across every kind and status, with drawn evidence.

Receipts and box labels are drawn with Pillow (the box label carries the IMEIs as Code 128
barcodes, like a real one) and go through ``evidence.attach``, so the demo exercises the
same pipeline and checks as a real filing. Deterministic for a given random generator.
"""
from __future__ import annotations

import io
import random
from datetime import timedelta
from pathlib import Path

from barcode import Code128
from flask_babel import force_locale
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session, select

from . import audit, cases, checks, evidence, imei
from .models import Agent, CaseKind, CaseStatus, Device, EvidenceKind, MessageVisibility, Role, utcnow
from .review import canned

S = CaseStatus
#: (status, how many): a Monday morning, with history behind it
MIX = [(S.submitted, 8), (S.new, 42), (S.in_review, 34), (S.waiting_on_claimant, 24), (S.approved, 12),
       (S.rejected, 14), (S.executed, 10), (S.closed, 56)]
#: the lifecycle path from ``new`` to each status
PATHS = {
    S.in_review: [S.in_review], S.waiting_on_claimant: [S.in_review, S.waiting_on_claimant],
    S.approved: [S.in_review, S.approved], S.rejected: [S.in_review, S.rejected],
    S.executed: [S.in_review, S.approved, S.executed], S.closed: [S.in_review, S.rejected, S.closed],
}
NAMES = ["Anna Rossi", "Ivan Petrov", "Giulia Bianchi", "Olga Smirnova", "Marco Ferri", "Dmitry Volkov",
         "Sofia Romano", "Pavel Orlov", "Chiara Conti", "Luca Greco", "Elena Kuznetsova", "Sam Taylor"]
SHOPS = ["Mi Store Milano", "MediaWorld Roma", "DNS Moskva", "Unieuro Torino", "M.Video Kazan", "Amazon.it"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
ACTOR = audit.Actor("system", None, "demo seed")


def _font(size: int):
    return ImageFont.truetype(str(FONT), size) if FONT.exists() else ImageFont.load_default(size)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def receipt_image(*, shop: str, model: str, imei1: str, day, price: int) -> bytes:
    """A till receipt naming the shop, the date, the model and its IMEI."""
    image = Image.new("RGB", (360, 480), (250, 249, 244))
    draw = ImageDraw.Draw(image)
    big, small = _font(20), _font(14)
    draw.text((20, 20), shop, fill="black", font=big)
    draw.text((20, 52), f"{day:%d.%m.%Y}  #{price * 7 % 100000:05d}", fill="black", font=small)
    draw.line((20, 80, 340, 80), fill="black")
    draw.text((20, 95), model, fill="black", font=small)
    draw.text((20, 115), f"IMEI {imei1}", fill="black", font=small)
    draw.text((260, 95), f"{price},00", fill="black", font=small)
    draw.line((20, 150, 340, 150), fill="black")
    draw.text((20, 160), "TOTAL", fill="black", font=big)
    draw.text((240, 160), f"{price},00", fill="black", font=big)
    return _jpeg(image)


def _barcode(value: str) -> Image.Image:
    return Code128(value, writer=ImageWriter()).render({"module_height": 9, "module_width": 0.25, "quiet_zone": 2,
                                                        "write_text": False, "dpi": 200})


def box_label_image(*, model: str, imei1: str, imei2: str | None, serial: str | None) -> bytes:
    """The white label on the phone box: model, serial and each IMEI with its Code 128 barcode."""
    image = Image.new("RGB", (560, 360), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((20, 15), model, fill="black", font=_font(22))
    draw.text((20, 48), f"S/N {serial or '-'}", fill="black", font=_font(14))
    for row, value in enumerate(filter(None, (imei1, imei2))):
        top = 80 + row * 130
        draw.text((20, top), f"IMEI{row + 1}: {value}", fill="black", font=_font(16))
        code = _barcode(value)
        code.thumbnail((520, 90))
        image.paste(code, (20, top + 24))
    return _jpeg(image)


def _agents(session: Session) -> list[Agent]:
    return list(session.exec(select(Agent).where(Agent.role.in_((Role.agent, Role.supervisor))).order_by(Agent.id)))


def seed(session: Session, *, config: dict, rng: random.Random) -> int:
    """Add the demo cases (and the default canned replies); returns how many cases."""
    canned.seed_defaults(session)
    devices = list(session.exec(select(Device).order_by(Device.id)))
    workers = _agents(session)
    now, made = utcnow(), 0
    plan = [status for status, count in MIX for _ in range(count)]
    rng.shuffle(plan)
    with force_locale("en"):  # the evidence pipeline words its refusals; a CLI run has no request locale
        for number, status in enumerate(plan):
            _one_case(session, config=config, rng=rng, number=number, status=status, devices=devices,
                      workers=workers, now=now)
            made += 1
    return made


def _one_case(session, *, config, rng, number, status, devices, workers, now) -> None:
    kind = list(CaseKind)[number % 3]
    device = rng.choice(devices) if number % 9 else None  # a few devices nobody knows
    name = NAMES[number % len(NAMES)]
    claim = cases.Claim(
        kind=kind, claimant_name=name, contact_email=f"{name.split()[0].lower()}.{number}@demo.test",
        language=("en", "ru", "it")[number % 3], imei1=device.imei1 if device else imei.generate("35"),
        imei2=device.imei2 if device else None, serial=device.serial if device else None,
        model=(device.model if device else None) or "Redmi Note 13",
        hint_account_id=str(device.account_id) if device and device.account_id and number % 4 == 0 else None,
        hint_email=f"{name.split()[0].lower()}@old-mail.test" if number % 4 else None,
        purchase_date=(now - timedelta(days=rng.randrange(60, 900))).date(), shop=rng.choice(SHOPS),
    )
    case, _token = cases.file_case(session, claim=claim, config=config)
    age = timedelta(hours=rng.randrange(1, 30 * 24))
    case.created_at = case.updated_at = now - age
    case.sla_due_at = case.created_at + timedelta(hours=cases.sla_hours(kind, config))
    uploads = [evidence.Upload("receipt.jpg", receipt_image(shop=claim.shop, model=claim.model, imei1=claim.imei1,
                                                            day=claim.purchase_date, price=rng.randrange(149, 999)),
                               EvidenceKind.receipt)]
    if kind != CaseKind.locked_account and number % 5:
        uploads.append(evidence.Upload("box.jpg", box_label_image(model=claim.model, imei1=claim.imei1,
                                                                  imei2=claim.imei2, serial=claim.serial),
                                       EvidenceKind.box_photo))
    for upload in uploads:
        evidence.attach(session, case=case, upload=upload, uploaded_by="claimant", config=config)
    if status != S.submitted:
        cases.confirm_contact(session, case)
    _walk(session, case, status=status, rng=rng, workers=workers, age=age)
    checks.recheck(session, case, config)


def _walk(session, case, *, status, rng, workers, age) -> None:
    """Move the case along its path as a demo agent would, with the messages that go with it."""
    agent = rng.choice(workers) if workers else None
    actor = audit.Actor("agent", str(agent.id), agent.name) if agent else ACTOR
    for step in PATHS.get(status, []):
        if step == S.in_review:
            case.assignee_id = agent.id if agent else None
        if step == S.waiting_on_claimant:
            cases.add_message(session, case, body="We need a clearer photo of the box label.", actor=actor,
                              requested={"box_photo": "the IMEI label must be readable"})
        if step in (S.approved, S.rejected):
            case.decision, case.decided_by_id = step.value, agent.id if agent else None
            case.decided_at = utcnow()
            case.decision_reason = ("Your proof of purchase matches the device." if step == S.approved
                                    else "The receipt is for a different device.")
            cases.add_message(session, case, body=case.decision_reason, actor=actor)
            if step == S.rejected:
                cases.add_message(session, case, body="IMEI on the receipt does not match the box label.",
                                  actor=actor, visibility=MessageVisibility.internal)
        cases.transition(session, case, step, actor=actor, reason="demo")
    if status == S.closed:
        case.closed_at = case.created_at + min(age, timedelta(days=rng.randrange(1, 6)))
    if status == S.waiting_on_claimant and rng.random() < 0.3:
        case.waiting_since = case.created_at  # old enough for the sweep to remind or close
    session.add(case)
    session.flush()
