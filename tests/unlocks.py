"""An approved locked-account case with its unlock scheduled, for tests of what an unlock sends."""
from __future__ import annotations

from support import actions, db
from support.audit import SYSTEM
from support.cases import Claim, confirm_contact, file_case, transition
from support.directory import directory
from support.models import Agent, CaseKind, CaseStatus, Role, utcnow
from support.stepup import SteppedUp


def scheduled_unlock(app, make_agent, make_account, make_device, **claim) -> tuple[int, int, int, str]:
    """(action id, agent id, account id, case number); ``claim`` overrides the claimant's fields."""
    agent = make_agent(Role.agent)
    account = make_account(email="locked@example.test")
    device = make_device(account=account)
    with app.app_context(), db.transaction(app) as session:
        accounts = directory(session, app.config)
        accounts.lock(accounts.get_account(account.id), "10 wrong passwords")
        fields = {"claimant_name": "Claimant", "contact_email": "claimant@example.test", "language": "en", **claim}
        case, _token = file_case(session, claim=Claim(kind=CaseKind.locked_account, imei1=device.imei1,
                                                      hint_email=account.email, **fields), config=app.config)
        confirm_contact(session, case)
        for status in (CaseStatus.in_review, CaseStatus.approved):
            transition(session, case, status, actor=SYSTEM)
        outcome = actions.request(session, case, requester=session.get(Agent, agent.id),
                                  step_up=SteppedUp(agent.id, utcnow()), config=app.config)
        return outcome.action.id, agent.id, account.id, case.number
