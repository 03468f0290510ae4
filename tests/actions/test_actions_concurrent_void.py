"""Two executions of an action whose case changed since it was requested, at once (a double
click on two servers, or an agent and the worker's run-due): one voids it, the other is
refused, neither fails. Found by the two-server load test (tests/load): both read the
scheduled action, both went to void it, and the second's write failed the action's
version check with a 500."""
from __future__ import annotations

from sqlmodel import func, select

from support import actions, audit
from support.models import Action, ActionStatus, Agent, AuditEvent, Case, CaseKind, Role, utcnow
from support.stepup import SteppedUp


def test_two_executions_of_a_stale_action_void_it_once(app, tx, make_agent, approved_case, execute_at_once):
    agents = [make_agent(Role.agent), make_agent(Role.agent)]
    case, _account, _device = approved_case(CaseKind.locked_account, locked=True)
    with tx() as session:
        outcome = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agents[0].id),
                                  step_up=SteppedUp(agents[0].id, utcnow()), config=app.config)
        assert outcome.code == "scheduled"
        action_id = outcome.action.id
    with tx() as session:  # a check's result changed since the request (new evidence, a re-check)
        row = session.get(Case, case.id)
        row.checks = [*(row.checks or []), {"code": "late_check", "result": "fail"}]
        session.add(row)

    results = execute_at_once(action_id, [agent.id for agent in agents])
    assert sorted(results) == ["not_scheduled", "voided"], results
    with tx() as session:
        assert session.get(Action, action_id).status == ActionStatus.cancelled
        voided = session.exec(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "action.voided")).one()
        assert voided == 1
        assert audit.verify(session).ok
