"""Checks are always current: whatever a check reads changes, the case's checks are re-run,
both cases sharing something name each other, and a changed result voids the action
waiting on the old one. The case page and its PDF never show a stale result."""
from __future__ import annotations

from filed_claims import jpeg, needs_poppler
from sqlmodel import func, select

from support import actions, cases, db
from support.audit import SYSTEM
from support.models import Action, ActionStatus, Agent, AuditEvent, Case, CaseStatus, Role, utcnow
from support.stepup import SteppedUp

pytestmark = needs_poppler

RED, BLUE, GREEN, GREY = (200, 30, 30), (30, 30, 200), (30, 160, 30), (120, 120, 120)


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == name).order_by(AuditEvent.seq)))


def request_action(app, number: str, make_agent) -> int:
    """The case confirmed, approved and its action requested (step-up passed)."""
    agent = make_agent(Role.agent)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        for status in (CaseStatus.in_review, CaseStatus.approved):
            cases.transition(session, case, status, actor=SYSTEM)
        outcome = actions.request(session, case, requester=session.get(Agent, agent.id),
                                  step_up=SteppedUp(agent.id, utcnow()), config=app.config)
        return outcome.action.id


def action_status(app, action_id: int) -> ActionStatus:
    with app.app_context(), db.transaction(app) as session:
        return session.get(Action, action_id).status


def test_confirming_the_contact_flips_the_check_on_the_page_and_the_report(file_claim, agrees, shown, reader):
    filed = file_claim(jpeg(RED), jpeg(BLUE))
    assert agrees(filed.number)["contact_confirmed"] == "warn"

    assert filed.client.get(filed.confirm_path).status_code == 200

    assert agrees(filed.number)["contact_confirmed"] == "pass"
    page, report = shown(filed.number)
    assert "not confirmed yet" not in page and "not confirmed yet" not in report


def test_a_later_case_reusing_a_receipt_fails_the_earlier_one_too_and_voids_its_action(
        app, file_claim, agrees, stored, make_agent, make_account, make_device):
    device = make_device(account=make_account(email="old@example.test"))
    first = file_claim(jpeg(RED), jpeg(BLUE), imei1=device.imei1)
    first.client.get(first.confirm_path)
    assert agrees(first.number)["same_evidence"] == "pass"
    action_id = request_action(app, first.number, make_agent)
    assert action_status(app, action_id) == ActionStatus.pending_approval

    reseller = file_claim(jpeg(RED), jpeg(GREEN))  # another device, another address, the same receipt

    assert agrees(first.number)["same_evidence"] == agrees(reseller.number)["same_evidence"] == "fail"
    assert stored(first.number)["same_evidence"]["links"] == [reseller.number]
    assert stored(reseller.number)["same_evidence"]["links"] == [first.number]
    assert action_status(app, action_id) == ActionStatus.cancelled  # voided at once, not at approval
    [voided] = events(app, "action.voided")
    assert voided.case_number == first.number and voided.after["status"] == "cancelled"


def test_evidence_added_by_the_claimant_links_both_cases(file_claim, agrees, stored):
    first = file_claim(jpeg(RED), jpeg(BLUE))
    second = file_claim(jpeg(GREEN), jpeg(GREY))
    assert agrees(first.number)["same_evidence"] == agrees(second.number)["same_evidence"] == "pass"

    second.add_evidence("receipt", jpeg(RED))

    assert agrees(first.number)["same_evidence"] == agrees(second.number)["same_evidence"] == "fail"
    assert stored(first.number)["same_evidence"]["links"] == [second.number]


def test_a_third_case_sharing_an_imei_is_linked_by_both_and_the_link_is_one_level(file_claim, stored, agrees):
    device_imei = "490154203237518"
    first = file_claim(jpeg(RED), jpeg(BLUE), imei1=device_imei)
    second = file_claim(jpeg(GREEN), jpeg(GREY), imei1=device_imei)
    third = file_claim(jpeg((10, 10, 10)), jpeg((250, 250, 250)), imei1=device_imei)
    assert sorted(stored(first.number)["same_imei"]["links"]) == sorted([second.number, third.number])
    assert sorted(stored(second.number)["same_imei"]["links"]) == sorted([first.number, third.number])
    for filed in (first, second, third):
        assert agrees(filed.number)["same_imei"] == "warn"


def test_a_decided_case_keeps_the_checks_it_was_decided_on(app, file_claim, make_agent):
    first = file_claim(jpeg(RED), jpeg(BLUE))
    first.client.get(first.confirm_path)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, first.number)
        for status in (CaseStatus.in_review, CaseStatus.rejected):
            cases.transition(session, case, status, actor=SYSTEM)
        kept = case.checks

    later = file_claim(jpeg(RED), jpeg(GREEN))

    with app.app_context(), db.transaction(app) as session:
        assert cases.get_by_number(session, first.number).checks == kept
        later_checks = {check["code"]: check for check in cases.get_by_number(session, later.number).checks}
        assert later_checks["same_evidence"]["links"] == [first.number]  # the new case still sees it


def test_reopening_a_closed_case_brings_its_checks_up_to_date(app, file_claim, agrees):
    first = file_claim(jpeg(RED), jpeg(BLUE))
    first.client.get(first.confirm_path)
    with app.app_context(), db.transaction(app) as session:
        cases.transition(session, cases.get_by_number(session, first.number), CaseStatus.closed, actor=SYSTEM)
    file_claim(jpeg(RED), jpeg(GREEN))

    assert first.client.get(f"/track/{first.number}?t={first.token}").status_code == 303
    assert first.client.post("/track/case/reopen").status_code == 303

    assert agrees(first.number)["same_evidence"] == "fail"


def test_rechecking_unchanged_results_leaves_the_case_alone(app, file_claim, make_device):
    """An agent's open page is not made stale by a re-check that changes nothing."""
    filed = file_claim(jpeg(RED), jpeg(BLUE))
    with app.app_context(), db.transaction(app) as session:
        version = cases.get_by_number(session, filed.number).version
    file_claim(jpeg(GREEN), jpeg(GREY))  # shares nothing
    with app.app_context(), db.transaction(app) as session:
        assert cases.get_by_number(session, filed.number).version == version
        count = session.exec(select(func.count()).select_from(Case)).one()
        assert count == 2
