"""Two executions of the same action at once: exactly one effect, one event, an intact chain."""
from __future__ import annotations

import threading

from sqlmodel import func, select

from support import actions, audit, db
from support.models import Action, Agent, AuditEvent, Case, CaseKind, Device, Role, utcnow
from support.stepup import SteppedUp


def stepped_up(agent_id: int) -> SteppedUp:
    return SteppedUp(agent_id, utcnow())


def test_two_agents_executing_at_once_unbind_once(app, tx, make_agent, approved_case):
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

    loaded = threading.Barrier(2)
    results: list[str] = []

    def execute(agent_id: int) -> None:
        with app.app_context():
            try:
                with db.transaction(app) as session:
                    action = session.get(Action, action_id)
                    if session.get_bind().dialect.name == "postgresql":
                        loaded.wait(timeout=10)  # both have read the scheduled action before either writes
                    outcome = actions.execute(session, action, executor=session.get(Agent, agent_id), step_up=stepped_up(agent_id),
                                              config=app.config)
                    results.append(outcome.code)
            except actions.ActionRefused as refusal:
                results.append(refusal.code)

    threads = [threading.Thread(target=execute, args=(agent.id,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == ["already_executed", "executed"]
    with tx() as session:
        assert session.get(Device, device.id).account_id is None
        executed = session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "action.executed")).one()
        assert executed == 1
        assert audit.verify(session).ok
