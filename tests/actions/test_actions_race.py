"""Two executions of the same action at once: exactly one effect, one event, an intact chain."""
from __future__ import annotations

from sqlmodel import func, select

from support import actions, audit
from support.models import Action, Agent, AuditEvent, Case, CaseKind, Device, Role, utcnow
from support.stepup import SteppedUp


def stepped_up(agent_id: int) -> SteppedUp:
    return SteppedUp(agent_id, utcnow())


def test_two_agents_executing_at_once_unbind_once(app, tx, make_agent, approved_case, execute_at_once):
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0
    agents = [make_agent(Role.agent), make_agent(Role.agent)]
    supervisor = make_agent(Role.supervisor)
    case, _account, device = approved_case(CaseKind.device_unbind)
    with tx() as session:
        action_id = actions.request(session, session.get(Case, case.id), requester=session.get(Agent, agents[0].id), step_up=stepped_up(agents[0].id),
                                    config=app.config).action.id
    with tx() as session:
        actions.approve(session, session.get(Action, action_id), approver=session.get(Agent, supervisor.id), step_up=stepped_up(supervisor.id),
                        config=app.config)

    results = execute_at_once(action_id, [agent.id for agent in agents])
    assert sorted(results) == ["already_executed", "executed"], results
    with tx() as session:
        assert session.get(Device, device.id).account_id is None
        executed = session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "action.executed")).one()
        assert executed == 1
        assert audit.verify(session).ok
