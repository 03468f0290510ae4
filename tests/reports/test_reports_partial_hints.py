"""The report's check table says when the account matched only partly, in the report's language."""
from __future__ import annotations

from support import cases, checks, db
from support.models import CaseKind, CaseStatus

from report_reading import needs_poppler, pdf_text

pytestmark = needs_poppler


def test_a_partial_account_match_reads_as_a_partial_pass(app, runner, make_account, make_device, make_case, tmp_path):
    device = make_device(account=make_account(email="alice@mail.ru"))
    case, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review, imei1=device.imei1,
                             hint_email="a•••@mail.ru")
    with app.app_context(), db.transaction(app) as session:
        checks.refresh(session, cases.get_by_number(session, case.number), app.config)
    output = tmp_path / "ru.pdf"
    assert runner.invoke(args=["report", case.number, "-o", str(output), "--lang", "ru"]).exit_code == 0

    text = " ".join(pdf_text(output.read_bytes()).split())
    assert "пройдено частично" in text
    assert f"привязанный аккаунт {device.account_id} частично совпадает с данными заявителя: почта" in text
