"""Each automatic check's pass / warn / fail, the risk score, and the digest."""
from __future__ import annotations

import html
import random
import re
from datetime import date, timedelta

import pytest

from receipt_samples import make_receipt, receipt_pdf
from support import checks, db
from support.cases import get_by_number
from support.demo_cases import box_label_image
from support.evidence.analysis.run import analyse_evidence
from support.models import CaseKind, CaseStatus, EvidenceKind, Role, utcnow


def result(case, code):
    return next(check for check in case.checks if check["code"] == code)


def test_a_clean_unbind_case_passes_and_scores_low(app, make_account, make_device, make_case, attach, load):
    account = make_account(email="owner@example.test")
    device = make_device(account=account)
    bought = date.today() - timedelta(days=20)
    case, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1, hint_email="Owner@Example.test",
                        contact_email="unique-owner@example.test", purchase_date=bought)
    printed = make_receipt(random.Random(case.number), "en", imei_value=device.imei1, day=bought)
    receipt = attach(case.number, EvidenceKind.receipt, receipt_pdf(printed))  # an e-shop's PDF: its text is read
    label = attach(case.number, EvidenceKind.box_photo, box_label_image(model="Phone 12", imei1=device.imei1,
                                                                      imei2=None, serial=None))
    assert {check["result"] for check in load(case.number).checks} == {"pass", "pending"}  # the files are being read
    with app.app_context():
        analyse_evidence(receipt.id)  # what the worker does
        analyse_evidence(label.id)
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


def test_the_issue_s_masked_phone_is_a_partial_pass_that_costs_less_than_a_full_one(app, make_account, make_device,
                                                                                      make_case, refreshed):
    device = make_device(account=make_account(phone="+79161234567"))
    masked, _ = make_case(imei1=device.imei1, hint_email=None, hint_phone="+7 916 *** 45 67")
    whole, _ = make_case(imei1=device.imei1, hint_email=None, hint_phone="8 (916) 123-45-67")
    masked, whole = refreshed(masked.number), refreshed(whole.number)
    partial = result(masked, "account_match")
    assert (partial["result"], partial.get("partial")) == ("pass", True)
    assert partial["detail"] == f"bound account {device.account_id} partly matches the claimant's phone"
    assert (result(whole, "account_match")["result"], result(whole, "account_match").get("partial")) == ("pass", None)
    assert checks.points(partial) == checks.PARTIAL_PASS_POINTS["account_match"] == 5
    assert masked.risk_score == whole.risk_score + 5
    with app.app_context(), db.transaction(app) as session:  # the only difference voids an approval given on one
        assert checks.digest(get_by_number(session, masked.number)) != checks.digest(get_by_number(session, whole.number))


@pytest.mark.parametrize("hint, expected", [
    ({"hint_email": "a•••@mail.ru"}, ("pass", True)),
    ({"hint_email": "A***@MAIL.RU"}, ("pass", True)),
    ({"hint_email": "Alice@Mail.RU"}, ("pass", None)),
    ({"hint_email": "a***@gmail.com"}, ("fail", None)),
    ({"hint_email": "***@mail.ru"}, ("warn", None)),          # a mask that fits everything never passes
    ({"hint_phone": "***"}, ("warn", None)),
    ({"hint_phone": "+7 ***"}, ("warn", None)),
    ({"hint_phone": "67"}, ("warn", None)),
    ({"hint_phone": "4567"}, ("pass", True)),
    ({"hint_phone": "+7 916 *** 45 68"}, ("fail", None)),
    ({"hint_account_id": "ID"}, ("warn", None)),
    ({"hint_account_id": "*"}, ("warn", None)),
    ({"hint_email": "***@mail.ru", "hint_phone": "4568"}, ("fail", None)),   # a contradiction beside nothing
    ({"hint_email": "b***@mail.ru", "hint_phone": "***4567"}, ("pass", True)),  # the strongest hint decides
])
def test_partial_hints_pass_weakly_contradictions_fail_and_fragments_too_short_warn(make_account, make_device,
                                                                                       make_case, refreshed, hint,
                                                                                       expected):
    device = make_device(account=make_account(email="alice@mail.ru", phone="+79161234567"))
    case, _ = make_case(imei1=device.imei1, **{"hint_email": None, **hint})
    check = result(refreshed(case.number), "account_match")
    assert (check["result"], check.get("partial")) == expected
    if expected[0] == "warn":
        assert check["detail"] == f"the claimant's hints are not enough to compare with bound account {device.account_id}"


def test_account_id_prefixes_and_suffixes_with_masks(make_account, make_device, make_case, refreshed):
    device = make_device(account=make_account(email="owner-id@example.test"))
    number = str(device.account_id)
    for hint, expected in [(number[:4] + "****", True), ("****" + number[-4:], True), (number[:5], True),
                           (number, None)]:
        case, _ = make_case(imei1=device.imei1, hint_email=None, hint_account_id=hint)
        check = result(refreshed(case.number), "account_match")
        assert (check["result"], check.get("partial")) == ("pass", expected), hint
    wrong = str((int(number[:4]) + 1) % 10000).zfill(4) + "******"
    case, _ = make_case(imei1=device.imei1, hint_email=None, hint_account_id=wrong)
    assert result(refreshed(case.number), "account_match")["result"] == "fail"


def test_a_partial_pass_counts_in_the_risk_score():
    full = [{"code": "account_match", "result": "pass"}]
    partial = [{"code": "account_match", "result": "pass", "partial": True}]
    assert checks.risk_score(full) == 0 and checks.risk_score(partial) == 5
    assert checks.risk_score(partial + [{"code": "same_imei", "result": "warn"}]) == 20


@pytest.mark.parametrize("language, words", [
    ("en", ["partial pass", "partly matches the claimant's phone"]),
    ("ru", ["пройдено частично", "частично совпадает с данными заявителя: телефон"]),
    ("it", ["superato in parte", "corrisponde in parte ai dati del richiedente: telefono"]),
])
def test_the_case_page_says_the_pass_is_partial_in_the_agent_s_language(client, login, make_account, make_device,
                                                                         make_case, refreshed, language, words):
    device = make_device(account=make_account(phone="+79161234567"))
    partial, _ = make_case(imei1=device.imei1, hint_email=None, hint_phone="+7 916 *** 45 67")
    short, _ = make_case(imei1=device.imei1, hint_email=None, hint_phone="***")
    refreshed(partial.number), refreshed(short.number)
    login(Role.agent)
    page = client.get(f"/cases/{partial.number}?lang={language}").text
    row = html.unescape(page[page.index('data-code="account_match"'):].split("</tr>")[0])
    assert all(word in row for word in words), row
    assert "partial" in row and "pass partial" in row  # styled apart from a full pass
    row = client.get(f"/cases/{short.number}?lang={language}").text.split('data-code="account_match"')[1].split("</tr>")[0]
    assert "warn" in row and "partial" not in row


def test_the_case_page_explains_the_risk_score_check_by_check(client, login, make_device, make_case, refreshed):
    device = make_device(lost_or_stolen=True)
    case, _ = make_case(kind=CaseKind.device_unbind, imei1=device.imei1)
    checked = refreshed(case.number)
    login(Role.agent)
    page = client.get(f"/cases/{case.number}?lang=it").text
    shown = {code: int(points) for code, points in re.findall(
        r'data-code="([a-z_]+)".*?data-points="(\d+)"', page, flags=re.S)}
    assert shown == {check["code"]: checks.points(check) for check in checked.checks}
    assert shown["lost_or_stolen"] == 50 and "+50 punti" in page
    assert re.search(r'id="risk-total">\s*%d<' % checked.risk_score, page)
    assert checked.risk_score == min(sum(shown.values()), 100)
