"""Box labels and IMEI screens read after upload: barcodes, the IMEI screen's text, screenshots,
and the checks ``label_imei_match`` and ``screenshot`` that compare them with the claim."""
from __future__ import annotations

import io
import shutil
import struct
import zlib

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import select

from support import db, evidence, imei
from support.evidence.analysis import Picture, barcodes, screen_text, screenshots
from support.evidence.analysis.run import analyse_evidence
from support.cases import get_by_number
from support.demo_cases import box_label_image
from support.models import AnalysisStatus, AuditEvent, CaseKind, CaseStatus, Evidence, EvidenceKind, ExtractedKind, ExtractedValue, Role
from support.storage import storage

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def result(case, code):
    return next(check for check in case.checks if check["code"] == code)


@pytest.fixture
def analyse(app):
    """``analyse(evidence_id) -> status``: what the worker runs for a stored file."""

    def run(evidence_id: int):
        with app.app_context():
            return analyse_evidence(evidence_id)

    return run


@pytest.fixture
def load(app):
    def get(number: str):
        with app.app_context(), db.transaction(app) as session:
            return get_by_number(session, number)

    return get


def _values(app, evidence_id: int) -> list[ExtractedValue]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == evidence_id)
                                 .order_by(ExtractedValue.id)))


def _photo_of(label: bytes, *, angle: float = 7, size=(1600, 1200)) -> bytes:
    """The label photographed on a grey table, a little turned, as a camera JPEG."""
    table = Image.new("RGB", size, (120, 115, 110))
    sticker = Image.open(io.BytesIO(label)).convert("RGB").rotate(angle, expand=True, fillcolor=(120, 115, 110))
    table.paste(sticker, ((size[0] - sticker.width) // 2, (size[1] - sticker.height) // 2))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Acme", "Phone 12"
    out = io.BytesIO()
    table.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def test_a_box_label_of_another_phone_fails_and_the_agent_sees_why(app, client, login, make_device, make_case, upload,
                                                                    analyse, load):
    device = make_device()
    case, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1, status=CaseStatus.in_review)
    other_phone = imei.generate()
    label = _photo_of(box_label_image(model="Phone 12", imei1=other_phone, imei2=None, serial="SN-1"))
    item = upload(case.number, EvidenceKind.box_photo, label)
    assert result(load(case.number), "label_imei_match")["result"] == "pending"

    assert analyse(item) == AnalysisStatus.done
    check = result(load(case.number), "label_imei_match")
    assert check["result"] == "fail" and other_phone in check["detail"]
    assert load(case.number).risk_score >= 40
    imeis = [value for value in _values(app, item) if value.kind == ExtractedKind.imei]
    assert [value.value for value in imeis] == [other_phone]
    x0, y0, x1, y1 = imeis[0].box
    assert 300 < x0 < x1 < 1300 and 200 < y0 < y1 < 1000, "the box is where the barcode is on the stored picture"

    login(Role.agent)
    page = client.get(f"/cases/{case.number}?lang=en").text
    assert f"Photo of the box label #{item} shows IMEI {other_phone}, not the claimed one" in page
    assert f"показывает IMEI {other_phone}, а не заявленный" in client.get(f"/cases/{case.number}?lang=ru").text


def test_a_label_with_the_claimed_imei_passes_even_as_the_second_one(make_case, upload, analyse, load):
    case, _ = make_case(kind=CaseKind.device_unbind)
    label = box_label_image(model="Phone 12", imei1=imei.generate(), imei2=case.imei1, serial=None)
    # a dual-SIM label names the claimed IMEI second; the other is the same phone's IMEI2, not a mismatch
    item = upload(case.number, EvidenceKind.box_photo, _photo_of(label, angle=-4))
    analyse(item)
    assert result(load(case.number), "label_imei_match")["result"] == "pass"


def test_a_label_nobody_can_read_warns(make_case, upload, analyse, load):
    case, _ = make_case(kind=CaseKind.device_unbind)
    blank = _photo_of(box_label_image(model="Phone 12", imei1="", imei2=None, serial=None))
    analyse(upload(case.number, EvidenceKind.box_photo, blank))
    check = result(load(case.number), "label_imei_match")
    assert (check["result"], check["detail"]) == ("warn", "no IMEI could be read on the box label or IMEI screen")


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says ``width`` x ``height`` (a decompression bomb's promise)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    pixels = zlib.compress(b"\x00" * (1 + (width + 7) // 8) * 64, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@pytest.mark.parametrize("hostile", [_png_claiming(60000, 60000), b"\xff\xd8\xff\xe0 not a jpeg at all"])
def test_a_hostile_stored_picture_fails_the_analysis_safely(app, make_case, upload, analyse, load, hostile):
    case, _ = make_case(kind=CaseKind.device_unbind)
    label = box_label_image(model="Phone 12", imei1=case.imei1, imei2=None, serial=None)
    item = upload(case.number, EvidenceKind.box_photo, label)
    with app.app_context(), db.transaction(app) as session:  # the stored copy swapped for hostile bytes
        stored = session.get(Evidence, item)
        stored.viewable_sha256 = storage().store("viewable", hostile)
        session.add(stored)
    assert analyse(item) == AnalysisStatus.failed
    assert _values(app, item) == []
    assert result(load(case.number), "label_imei_match")["result"] == "warn"
    with app.app_context(), db.transaction(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.analysed")).one()
        assert event.reason in ("too_many_pixels", "unreadable")


def test_reanalysis_changes_nothing_and_keeps_an_agents_correction(app, make_agent, make_case, upload, analyse, load):
    case, _ = make_case(kind=CaseKind.device_unbind)
    second = imei.generate()
    item = upload(case.number, EvidenceKind.box_photo,
                  box_label_image(model="Phone 12", imei1=case.imei1, imei2=second, serial=None))
    analyse(item)
    first_run = [(value.id, value.kind, value.value, value.box) for value in _values(app, item)]
    assert analyse(item) == AnalysisStatus.done
    assert [(value.id, value.kind, value.value, value.box) for value in _values(app, item)] == first_run
    with app.app_context(), db.transaction(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.analysed")).all()
        assert len(events) == 1, "a run that reads the same values records nothing"

    agent = make_agent(Role.agent)
    with app.app_context(), db.transaction(app) as session:  # the viewer's correction, as it stores one
        misread = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == item,
                                                            ExtractedValue.kind == ExtractedKind.imei,
                                                            ExtractedValue.value == second)).one()
        misread.corrected_value, misread.corrected_by_id = imei.generate(), agent.id
        session.add(misread)
    analyse(item)
    values = _values(app, item)
    imeis = [value.value for value in values if value.kind == ExtractedKind.imei]
    assert imeis.count(second) == 1, "the corrected reading is not added again"
    assert any(value.corrected_value and value.value == second for value in values)
    assert len(values) == len(first_run)


def test_the_demo_box_labels_decode():
    for imei1, imei2 in ((imei.generate(), None), (imei.generate(), imei.generate())):
        found = barcodes.read(Picture(box_label_image(model="Demo", imei1=imei1, imei2=imei2, serial="S1"), 10**7))
        assert [item.value for item in found if item.kind == ExtractedKind.imei] == [value for value in (imei1, imei2) if value]
        assert all(item.raw.startswith("Code128") for item in found)


@pytest.mark.skipif(not shutil.which("tesseract"), reason="Tesseract is not installed (make test installs it)")
def test_an_imei_screen_is_read_as_text(app):
    value = imei.generate()
    screen = Image.new("RGB", (1080, 1200), (0, 0, 0))  # dark mode
    draw = ImageDraw.Draw(screen)
    font = ImageFont.truetype(FONT, 44)
    draw.text((80, 300), "IMEI", fill="white", font=font)
    draw.text((80, 380), f"{value[:2]} {value[2:8]} {value[8:14]} {value[14]}", fill="white", font=font)
    draw.text((80, 480), "IMEISV 0123456789012345", fill="white", font=font)  # 16 digits: not an IMEI
    png = io.BytesIO()
    screen.save(png, "PNG")
    found = screen_text.read(Picture(png.getvalue(), 10**7))
    assert [item.value for item in found] == [value]
    x0, y0, x1, y1 = found[0].box
    assert 60 < x0 < 140 and 360 < y0 < y1 < 450 and x1 > 500


def test_screenshots_are_screen_sized_pictures_without_a_camera():
    assert screenshots.is_screenshot(1080, 2400, {}) is True
    assert screenshots.is_screenshot(2400, 1080, {"software": "Android"}) is True
    assert screenshots.is_screenshot(1080, 2400, {"make": "Acme", "model": "Phone 12"}) is False
    assert screenshots.is_screenshot(1080, 2399, {}) is False
    assert screenshots.is_screenshot(None, None, {}) is None


def test_a_receipt_screenshot_warns(make_case, upload, analyse, load):
    case, _ = make_case(kind=CaseKind.device_unbind)
    out = io.BytesIO()
    Image.new("RGB", (1170, 2532), (250, 250, 250)).save(out, "PNG")
    item = upload(case.number, EvidenceKind.receipt, out.getvalue(), "Screenshot.png")
    assert result(load(case.number), "screenshot")["result"] == "pending"
    analyse(item)
    assert result(load(case.number), "screenshot")["result"] == "warn"
    camera = upload(case.number, EvidenceKind.box_photo, _photo_of(box_label_image(
        model="P", imei1=case.imei1, imei2=None, serial=None), size=(1170, 2532)))
    analyse(camera)
    assert result(load(case.number), "label_imei_match")["result"] == "pass"


def test_the_command_reads_older_evidence_and_re_runs_the_checks(app, runner, make_case, load):
    case, _ = make_case(kind=CaseKind.device_unbind)
    other = imei.generate()
    with app.test_request_context(), db.transaction(app) as session:
        older = evidence.attach(session, case=get_by_number(session, case.number), uploaded_by="claimant",
                                config=app.config, upload=evidence.Upload(
                                    "box.jpg", box_label_image(model="P", imei1=other, imei2=None, serial=None),
                                    EvidenceKind.box_photo))
        older.analysis_status = None  # as stored before analysis existed
        session.add(older)
    assert runner.invoke(args=["evidence", "analyse"]).exit_code == 2, "it asks which files"
    result_ = runner.invoke(args=["evidence", "analyse", "--missing"])
    assert result_.exit_code == 0 and "1 done" in result_.output
    assert result(load(case.number), "label_imei_match")["result"] == "fail"
    again = runner.invoke(args=["evidence", "analyse", "--case", case.number])
    assert again.exit_code == 0 and "1 done" in again.output
    assert "nothing to analyse" in runner.invoke(args=["evidence", "analyse", "--missing"]).output
