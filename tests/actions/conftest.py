"""Fixtures for privileged actions: approved cases and the outbox (signed-in ``staff`` is in tests/conftest.py)."""
from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy
import threading
from pathlib import Path

import pytest

from support import actions, db
from support.models import Action, Agent, CaseKind, CaseStatus, utcnow
from support.stepup import SteppedUp

@pytest.fixture
def approved_case(app, make_account, make_device, make_case, tx):
    """``approved_case(kind, locked=False, email=..., phone=..., **claim) -> (case, account, device)``.

    The directory holds an account and a device bound to it; the approved case names the
    device's IMEI and the account's email as a hint.
    """
    from support.directory import directory

    counter = iter(range(10_000))

    def make(kind: CaseKind, *, locked: bool = False, email: str | None = None, phone: str | None = "+390000000001",
             lost_or_stolen: bool = False, **claim):
        number = next(counter)
        account = make_account(email=email or f"owner{number}@example.test", phone=phone and f"{phone}{number}")
        device = make_device(account=account, lost_or_stolen=lost_or_stolen, model="Redmi Note 13")
        if locked:
            with tx() as session:
                accounts = directory(session, app.config)
                accounts.lock(accounts.get_account(account.id), "10 wrong passwords in a row")
        fields = {"imei1": device.imei1, "hint_email": account.email, **claim}
        case, _token = make_case(kind=kind, status=CaseStatus.approved, **fields)
        return case, account, device

    return make


@pytest.fixture
def outbox(app_config):
    """``outbox() -> list[(kind, recipient, subject, body)]`` of what was sent, oldest first."""

    def read():
        folder = Path(app_config["MAIL_OUTBOX_DIR"])
        found = []
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            if path.name.endswith(".eml"):
                message = message_from_bytes(path.read_bytes(), policy=email_policy)
                body = message.get_body(("plain",)).get_content()
                found.append(("email", message["To"], message["Subject"], body))
            elif path.name.endswith(".sms.txt"):
                head, _blank, body = path.read_text().partition("\n\n")
                found.append(("sms", head.removeprefix("To: "), None, body))
        return found

    return read


@pytest.fixture
def execute_at_once(app):
    """``execute_at_once(action_id, agent_ids) -> [outcome or refusal code, …]``: each agent
    executes the action in a thread of its own, at the same moment. On PostgreSQL both have
    read the scheduled action before either writes (SQLite has one writer at a time); an
    error a request would have answered with a 500 is listed as its ``repr``."""

    def run(action_id: int, agent_ids: list[int]) -> list[str]:
        loaded = threading.Barrier(len(agent_ids))
        results: list[str] = []

        def execute(agent_id: int) -> None:
            with app.app_context():
                try:
                    with db.transaction(app) as session:
                        action = session.get(Action, action_id)
                        if session.get_bind().dialect.name == "postgresql":
                            loaded.wait(timeout=10)
                        results.append(actions.execute(session, action, executor=session.get(Agent, agent_id),
                                                       step_up=SteppedUp(agent_id, utcnow()), config=app.config).code)
                except actions.ActionRefused as refusal:
                    results.append(refusal.code)
                except Exception as error:  # noqa: BLE001 - reported by the test
                    results.append(repr(error))

        threads = [threading.Thread(target=execute, args=(agent_id,)) for agent_id in agent_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results

    return run
