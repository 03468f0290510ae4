"""The evidence pipeline and the filing service, called as the web pages and the API call them."""
from __future__ import annotations

import io

import pillow_heif
import pytest
from intake_samples import jpeg, pdf, png, stored_files
from PIL import Image
from sqlmodel import select

from support import cases, db, evidence, filing, imei
from support.models import Case, CaseKind, Evidence, EvidenceKind

pillow_heif.register_heif_opener()


def _image(format_name: str, size=(64, 48), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, format_name, **options)
    return out.getvalue()


def _claim(kind=CaseKind.device_unbind) -> cases.Claim:
    return cases.Claim(kind=kind, claimant_name="Ivan Petrov", contact_email="ivan@example.test", language="ru",
                       imei1=imei.generate(), hint_phone="...1234")


@pytest.mark.parametrize("format_name, media_type", [("HEIF", "image/heic"), ("WEBP", "image/webp"), ("PNG", "image/png")])
def test_phone_formats_are_accepted_and_re_encoded(plain_app, format_name, media_type):
    with plain_app.test_request_context():
        inspected = evidence.inspect(evidence.Upload("IMG_0001", _image(format_name), EvidenceKind.box_photo), plain_app.config)
    assert inspected.media_type == media_type and (inspected.width, inspected.height) == (64, 48)
    viewable = Image.open(io.BytesIO(inspected.viewable))
    assert viewable.format == ("PNG" if format_name == "PNG" else "JPEG")
    assert Image.open(io.BytesIO(inspected.thumbnail)).size == (64, 64), "letterboxed, never enlarged"
    assert Image.open(io.BytesIO(inspected.printed)).size == (64, 48), "a small picture is never enlarged"


@pytest.mark.parametrize("kind, size", [(EvidenceKind.box_photo, (1000, 750)), (EvidenceKind.receipt, (2000, 1500))])
def test_a_camera_photo_gets_a_print_copy_sized_for_its_kind(plain_app, kind, size):
    photo = jpeg(size=(4000, 3000), gps=True, software="Camera 2.0", taken_at="2026:01:02 10:11:12")
    with plain_app.test_request_context():
        inspected = evidence.inspect(evidence.Upload("IMG_0002.jpg", photo, kind), plain_app.config)
    printed = Image.open(io.BytesIO(inspected.printed))
    assert printed.format == "JPEG" and printed.size == size
    assert not printed.getexif() and "exif" not in printed.info, "made from the fresh canvas: no metadata"
    assert len(inspected.printed) < len(inspected.viewable)


def test_orientation_is_applied_to_the_copy(plain_app):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees to view
    out = io.BytesIO()
    Image.new("RGB", (80, 40), "white").save(out, "JPEG", exif=exif)
    with plain_app.test_request_context():
        inspected = evidence.inspect(evidence.Upload("turned.jpg", out.getvalue(), EvidenceKind.device_photo), plain_app.config)
    assert (inspected.width, inspected.height) == (40, 80)


def test_a_pdf_receipt_gets_its_first_page_as_thumbnail_and_its_text(plain_app):
    with plain_app.test_request_context():
        inspected = evidence.inspect(evidence.Upload("receipt.pdf", pdf(), EvidenceKind.receipt), plain_app.config)
    assert inspected.viewable is None and inspected.extracted == {"pages": 1}
    assert (inspected.thumbnail, inspected.printed) == (None, None), "drawn by the worker, not in the upload"
    drawn_thumbnail, drawn_print, _hash = evidence.pdf.pdf_pictures(pdf(), EvidenceKind.receipt)
    thumbnail = Image.open(io.BytesIO(drawn_thumbnail))
    assert thumbnail.format == "PNG" and max(thumbnail.size) == 320
    printed = Image.open(io.BytesIO(drawn_print))
    assert printed.format == "JPEG" and max(printed.size) == 2000, "a receipt's page, drawn at print size"


@pytest.mark.parametrize("data, code", [
    (b"", "empty"),
    (b"%PDF-1.7\n1 0 obj broken beyond repair", "unreadable"),
    (jpeg()[:200], "unreadable"),
])
def test_broken_files_are_refused_with_a_code(plain_app, data, code):
    with plain_app.test_request_context(), pytest.raises(evidence.EvidenceRejected) as refused:
        evidence.inspect(evidence.Upload("x", data, EvidenceKind.receipt), plain_app.config)
    assert refused.value.code == code and refused.value.field == "evidence"


def test_the_pixel_limit_is_per_call_from_the_config(plain_app):
    plain_app.config["MAX_IMAGE_PIXELS"] = 1000
    with plain_app.test_request_context(), pytest.raises(evidence.EvidenceRejected) as refused:
        evidence.inspect(evidence.Upload("big.png", png((100, 100)), EvidenceKind.box_photo), plain_app.config)
    assert refused.value.code == "too_many_pixels"


def test_required_evidence_per_kind():
    assert evidence.missing_evidence(CaseKind.locked_account, [EvidenceKind.receipt]) == []
    assert evidence.missing_evidence(CaseKind.lost_credentials, [EvidenceKind.receipt, EvidenceKind.box_photo]) == [
        {EvidenceKind.imei_screen}]
    assert evidence.missing_evidence(CaseKind.device_unbind, [EvidenceKind.sim_proof, EvidenceKind.other]) == [
        {EvidenceKind.receipt}, {EvidenceKind.box_photo}]


def test_a_refused_file_among_good_ones_leaves_no_case_no_row_no_file(app):
    uploads = [evidence.Upload("receipt.pdf", pdf(), EvidenceKind.receipt),
               evidence.Upload("box.jpg", jpeg(), EvidenceKind.box_photo),
               evidence.Upload("box2.jpg", b"GIF89a not really", EvidenceKind.box_photo)]
    with app.test_request_context(), db.transaction(app) as session:
        with pytest.raises(evidence.EvidenceRejected):
            filing.file_case_with_evidence(session, claim=_claim(), uploads=uploads, config=app.config)
        assert session.exec(select(Case)).first() is None and session.exec(select(Evidence)).first() is None
    assert stored_files(app.config["UPLOAD_DIR"]) == []


def test_missing_evidence_refuses_before_anything_happens(app):
    with app.test_request_context(), db.transaction(app) as session:
        with pytest.raises(filing.MissingEvidence) as refused:
            filing.file_case_with_evidence(session, claim=_claim(CaseKind.lost_credentials),
                                           uploads=[evidence.Upload("r.pdf", pdf(), EvidenceKind.receipt)],
                                           config=app.config)
        assert refused.value.missing == [{EvidenceKind.box_photo}, {EvidenceKind.imei_screen}]
        assert "Photo of the box label" in refused.value.message
        assert session.exec(select(Case)).first() is None


def test_a_database_failure_while_attaching_removes_the_files_written(app, make_case):
    case, _ = make_case()
    with app.test_request_context(), db.transaction(app) as session:
        ghost = session.get(Case, case.id)
        ghost.id = None  # a case the database does not know: the evidence row cannot be written
        with pytest.raises(Exception):
            evidence.attach(session, case=ghost, upload=evidence.Upload("box.jpg", jpeg(), EvidenceKind.box_photo),
                            uploaded_by="claimant", config=app.config)
        session.rollback()
    assert stored_files(app.config["UPLOAD_DIR"]) == []


def test_the_service_files_and_later_confirms(app):
    uploads = [evidence.Upload("receipt.pdf", pdf(), EvidenceKind.receipt),
               evidence.Upload("box.jpg", jpeg(), EvidenceKind.box_photo)]
    with app.test_request_context(), db.transaction(app) as session:
        case, token = filing.file_case_with_evidence(session, claim=_claim(), uploads=uploads, config=app.config)
        link_token = filing.confirmation_token(case, app.config)
    with app.test_request_context(), db.transaction(app) as session:
        assert cases.find_for_claimant(session, case.number, token).id == case.id
        confirmed = filing.confirm_contact_link(session, link_token)
        assert confirmed.status.value == "new"
        assert filing.confirm_contact_link(session, link_token + "x") is None


def test_purging_removes_staged_files_never_filed_and_keeps_evidence(app, runner, recover, claim_fields):
    assert recover("device_unbind").status_code == 303  # filed: its files are evidence
    kept = {path.name for path in stored_files(app.config["UPLOAD_DIR"])}
    orphan = {"evidence-box_photo": [(io.BytesIO(jpeg(color=(1, 2, 3))), "orphan.jpg")]}
    assert recover("device_unbind", files=orphan, imei1="1").status_code == 422  # staged, never filed
    assert len(stored_files(app.config["UPLOAD_DIR"])) > len(kept)

    assert "Removed 0" in runner.invoke(args=["intake", "purge-staged"]).output  # too young
    result = runner.invoke(args=["intake", "purge-staged", "--older-than-hours", "0"])
    # the orphan's original, viewable copy, thumbnail and print copy
    assert result.exit_code == 0 and "Removed 4 unreferenced file(s)." in result.output
    assert {path.name for path in stored_files(app.config["UPLOAD_DIR"])} == kept
