"""Each automatic check's pass / warn / fail, the risk score, and the digest."""
from __future__ import annotations

from datetime import timedelta

import pytest

from support import checks, db
from support.cases import get_by_number
from support.models import CaseKind, CaseStatus, EvidenceKind, Role, utcnow


def result(case, code):
    return next(check for check in case.checks if check["code"] == code)


def test_a_clean_unbind_case_passes_and_scores_low(make_account, make_device, make_case, attach, load, photo):
    account = make_account(email="owner@example.test")
    device = make_device(account=account)
    case, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1, hint_email="Owner@Example.test",
                        contact_email="unique-owner@example.test")
    attach(case.number, EvidenceKind.receipt, photo((10, 20, 30)))
    attach(case.number, EvidenceKind.box_photo, photo((30, 20, 10)))
    case = load(case.number)
    assert {check["code"]: check["result"] for check in case.checks} == {code: "pass" for code in checks.WEIGHTS}
    assert case.risk_score == 0


def test_wrong_check_digit_unknown_imei_and_missing_evidence_fail(make_case, refreshed):
    case, _ = make_case(kind=CaseKind.device_unbind, imei1="490154203237519", status=CaseStatus.submitted)
    case = refreshed(case.number)
    assert result(case, "imei_check_digit")["result"] == "fail"
    assert result(case, "imei_known")["result"] == "fail"  # an unbind of a device nobody knows
    assert result(case, "required_evidence")["result"] == "fail"
    assert result(case, "contact_confirmed")["result"] == "warn"
    assert result(case, "account_match")["result"] == "warn"
    assert case.risk_score == 25 + 20 + 20 + 5 + 10


def test_unknown_imei_only_warns_for_a_locked_account(make_case, refreshed):
    case, _ = make_case(kind=CaseKind.locked_account)
    assert result(refreshed(case.number), "imei_known")["result"] == "warn"


def test_hints_that_match_nothing_fail_the_account_match(make_account, make_device, make_case, refreshed):
    device = make_device(account=make_account(email="real@example.test", phone="+39 333 1234567"))
    wrong, _ = make_case(imei1=device.imei1, hint_email="someone@example.test", hint_phone="+39 333 0000000")
    right, _ = make_case(imei1=device.imei1, hint_email=None, hint_phone="+393331234567")
    assert result(refreshed(wrong.number), "account_match")["result"] == "fail"
    assert "phone" in result(refreshed(right.number), "account_match")["detail"]


def test_lost_or_stolen_fails_an_unbind_and_warns_otherwise(make_device, make_case, refreshed):
    device = make_device(lost_or_stolen=True)
    unbind, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1)
    locked, _ = make_case(kind=CaseKind.locked_account, imei1=device.imei1)
    assert result(refreshed(unbind.number), "lost_or_stolen")["result"] == "fail"
    assert result(refreshed(locked.number), "lost_or_stolen")["result"] == "warn"


def test_some_evidence_warns_and_look_alikes_link_the_other_cases(make_case, attach, refreshed, photo):
    first, _ = make_case(kind=CaseKind.device_unbind, contact_email="twice@example.test")
    second, _ = make_case(kind=CaseKind.device_unbind, imei1=first.imei1, contact_email="TWICE@example.test".lower())
    same_file = photo((1, 2, 3))
    attach(first.number, EvidenceKind.receipt, same_file)
    attach(second.number, EvidenceKind.receipt, same_file)
    case = refreshed(second.number)
    assert result(case, "required_evidence") == {"code": "required_evidence", "result": "warn",
                                                  "detail": "missing: box_photo", "links": [],
                                                  "message": "missing: %(kinds)s", "args": {"kinds": [["box_photo"]]}}
    assert result(case, "same_evidence")["result"] == "fail"
    assert result(case, "same_evidence")["links"] == [first.number]
    assert result(case, "same_imei")["links"] == [first.number]
    assert result(case, "same_email")["links"] == [first.number]


@pytest.mark.parametrize("exif", [{"software": "Adobe Photoshop 25.1"}, {"taken_at": utcnow() + timedelta(days=3)}])
def test_edited_or_future_dated_images_fail(make_case, attach, load, photo, exif):
    case, _ = make_case(kind=CaseKind.locked_account)
    attach(case.number, EvidenceKind.receipt, photo(**exif))
    assert result(load(case.number), "image_edited")["result"] == "fail"


def test_risk_score_sums_the_weights_and_caps_at_100():
    every_fail = [{"code": code, "result": "fail"} for code in checks.WEIGHTS]
    assert checks.risk_score(every_fail) == 100
    assert checks.risk_score([{"code": "same_imei", "result": "warn"}, {"code": "lost_or_stolen", "result": "fail"}]) == 65


def test_the_digest_changes_with_evidence(app, make_case, attach):
    case, _ = make_case()

    def current() -> str:
        with app.app_context(), db.transaction(app) as session:
            return checks.digest(get_by_number(session, case.number))

    before = current()
    assert current() == before
    attach(case.number, EvidenceKind.receipt)
    assert current() != before


def test_check_details_are_shown_in_the_agents_language_and_escaped(client, login, make_case, attach, photo):
    case, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)
    attach(case.number, EvidenceKind.receipt, photo(software="Photoshop <script>alert(1)</script>"))
    login(Role.agent)

    russian = client.get(f"/cases/{case.number}?lang=ru").text
    assert "не хватает: Фото наклейки на коробке" in russian, "the missing kind is named in Russian"
    assert "в справочнике нет устройства с этим IMEI" in russian
    assert "сохранено программой Photoshop &lt;script&gt;alert(1)&lt;/script&gt;" in russian
    assert "<script>alert(1)" not in russian
    english = client.get(f"/cases/{case.number}?lang=en").text
    assert "missing: Photo of the box label" in english and "the directory has no device with this IMEI" in english
