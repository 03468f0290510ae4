"""Case and reset refusals are ``Refused``: one handler answers them and rolls the request back."""
from __future__ import annotations

import pytest

from support import cases
from support.account.reset import ResetRefused
from support.refusals import Refused


@pytest.mark.parametrize(("refusal", "code", "status"), [
    (cases.TransitionError("a closed case cannot become approved"), "transition_not_allowed", 409),
    (cases.StaleCase("RD-2026-000001"), "stale_case", 409),
    (cases.ClaimedByOther("RD-2026-000001"), "claimed_by_other", 409),
    (ResetRefused("too_short"), "too_short", 422),
    (ResetRefused("expired"), "expired", 422),
])
def test_case_and_reset_refusals_share_the_refused_base(refusal, code, status):
    assert isinstance(refusal, Refused)
    assert (refusal.code, refusal.status) == (code, status) and refusal.message


def test_a_refused_transition_in_the_review_desk_writes_nothing(app, client, login, make_case):
    from support import db
    from support.models import AuditEvent, Case, CaseStatus
    from sqlmodel import func, select

    login()
    case, _token = make_case(status=CaseStatus.closed)
    with app.app_context(), db.transaction(app) as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    response = client.post(f"/cases/{case.number}/claim", data={"version": case.version})
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case.number}")
    with app.app_context(), db.transaction(app) as session:
        stored = session.get(Case, case.id)
        assert (stored.assignee_id, stored.version) == (None, case.version)
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
