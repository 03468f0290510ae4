"""Receipts read after upload and compared with the claim: ``receipt_imei``, ``receipt_date``
and ``receipt_date_plausible``, on SQLite and PostgreSQL, through the analysis the worker runs."""
from __future__ import annotations

import random
import shutil
from datetime import date, timedelta

import pytest
from sqlmodel import select

from receipt_samples import make_receipt, receipt_photo
from support import checks, db, imei
from support.evidence.analysis.run import analyse_evidence
from support.cases import get_by_number
from support.models import AnalysisStatus, CaseKind, CaseStatus, EvidenceKind, ExtractedKind, ExtractedValue, Role, utcnow

pytestmark = pytest.mark.skipif(not shutil.which("tesseract"),
                                reason="tesseract-ocr is not installed (make test installs it as root)")


def result(case, code):
    return next(check for check in case.checks if check["code"] == code)


@pytest.fixture
def analysed(app, upload):
    """``analysed(case, **printed) -> (Case, evidence id)``: a scanned receipt uploaded and read
    (Tesseract) by the worker's task; ``printed`` says what it prints (imei_value, day)."""

    def run(case, **printed):
        rng = random.Random(case.number)
        item = upload(case.number, EvidenceKind.receipt, receipt_photo(make_receipt(rng, "it", **printed), rng, degraded=False),
                      "receipt.jpg")
        with app.app_context():
            assert analyse_evidence(item) == AnalysisStatus.done
            with db.transaction(app) as session:
                return get_by_number(session, case.number), item

    return run


def test_a_receipt_naming_the_claimed_imei_and_date_passes_and_the_agent_sees_it(client, login, make_case, analysed):
    bought = date.today() - timedelta(days=30)
    case, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review, purchase_date=bought,
                        model="Redmi Note 13")
    case, item = analysed(case, imei_value=case.imei1, day=bought + timedelta(days=2))
    assert result(case, "receipt_imei")["result"] == "pass"
    assert result(case, "receipt_date")["result"] == "pass"
    assert result(case, "receipt_date_plausible")["result"] == "pass"

    login(Role.agent)
    page = client.get(f"/cases/{case.number}?lang=it").text
    assert "Lo scontrino riporta l&#39;IMEI dichiarato" in page or "Lo scontrino riporta l'IMEI dichiarato" in page
    assert f"#{item} è datato {(bought + timedelta(days=2)).isoformat()}, come dichiarato" in page


def test_a_receipt_naming_another_imei_fails_and_weighs(make_case, analysed):
    bought = date.today() - timedelta(days=30)
    case, _ = make_case(kind=CaseKind.device_unbind, purchase_date=bought)
    other_phone = imei.generate("35")
    case, item = analysed(case, imei_value=other_phone, day=bought)
    check = result(case, "receipt_imei")
    assert check["result"] == "fail" and other_phone in check["detail"] and f"#{item}" in check["detail"]
    assert checks.points(check) == 40


def test_a_receipt_dated_away_from_the_claim_fails_the_date_check(make_case, analysed):
    bought = date.today() - timedelta(days=60)
    case, _ = make_case(purchase_date=bought)
    case, _ = analysed(case, imei_value=case.imei1, day=bought - timedelta(days=4))
    check = result(case, "receipt_date")
    assert check["result"] == "fail" and bought.isoformat() in check["detail"]
    assert result(case, "receipt_imei")["result"] == "pass"


def test_a_receipt_dated_after_its_upload_or_before_the_model_existed_is_implausible(make_case, analysed):
    future = date.today() + timedelta(days=5)
    case, _ = make_case(purchase_date=date.today())
    case, _ = analysed(case, imei_value=case.imei1, day=future)
    assert result(case, "receipt_date_plausible")["result"] == "fail"
    assert "after it was uploaded" in result(case, "receipt_date_plausible")["detail"]

    # the Xiaomi 14 went on sale on 2023-10-31 (support/device_models.py); a receipt of 2022 cannot be
    case, _ = make_case(purchase_date=date(2022, 6, 1), model="Xiaomi 14")
    case, _ = analysed(case, imei_value=case.imei1, day=date(2022, 6, 1))
    check = result(case, "receipt_date_plausible")
    assert check["result"] == "fail" and "before the Xiaomi 14 went on sale (2023-10-31)" in check["detail"]
    assert result(case, "receipt_date")["result"] == "pass"


def test_while_the_receipt_is_analysed_the_checks_wait_and_an_agents_correction_counts(app, make_agent, make_case,
                                                                                      upload, analysed):
    bought = date.today() - timedelta(days=10)
    case, _ = make_case(purchase_date=bought)
    receipt = make_receipt(random.Random(1), "ru", imei_value=imei.generate("35"), day=bought)
    item = upload(case.number, EvidenceKind.receipt, receipt_photo(receipt, random.Random(1), degraded=False), "receipt.jpg")
    with app.app_context(), db.transaction(app) as session:
        waiting = get_by_number(session, case.number)
    assert {result(waiting, code)["result"] for code in ("receipt_imei", "receipt_date", "receipt_date_plausible")} == {"pending"}
    assert checks.risk_score([result(waiting, "receipt_imei")]) == 0

    with app.app_context():
        analyse_evidence(item)
        agent = make_agent()
        with db.transaction(app) as session:
            misread = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == item,
                                                                ExtractedValue.kind == ExtractedKind.imei)).one()
            assert get_by_number(session, case.number).checks and misread.value == receipt.imei
            misread.corrected_value, misread.corrected_by_id, misread.corrected_at = case.imei1, agent.id, utcnow()
            session.add(misread)
            fixed = get_by_number(session, case.number)
            checks.refresh(session, fixed, app.config)
            assert result(fixed, "receipt_imei")["result"] == "pass"
