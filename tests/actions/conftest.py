"""Fixtures for privileged actions: signed-in staff with TOTP, approved cases, the outbox."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient

from support import db
from support.models import Agent, CaseKind, CaseStatus, Role

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    agent: Agent
    client: FlaskClient
    secret: str | None

    def code(self, steps_ahead: int = 0) -> str:
        """A TOTP code; ``steps_ahead`` gives a fresh one when this agent already used now's."""
        return pyotp.TOTP(self.secret).at(time.time() + 30 * steps_ahead)

    def next_window(self, tx) -> None:
        """As if the codes this agent used had expired: now's code is good again (a third step-up)."""
        with tx() as session:
            row = session.get(Agent, self.agent.id)
            row.totp_last_step = None
            session.add(row)


@pytest.fixture
def tx(app):
    """``with tx() as session``: one committed transaction inside the app context."""

    @contextmanager
    def transaction():
        with app.app_context(), db.transaction(app) as session:
            yield session

    return transaction


@pytest.fixture
def staff(app, make_agent, tx):
    """``staff(role, totp=True) -> Staff``: an agent with its own signed-in test client."""

    def make(role: Role = Role.agent, totp: bool = True) -> Staff:
        agent = make_agent(role)
        secret = pyotp.random_base32() if totp else None
        with tx() as session:
            row = session.get(Agent, agent.id)
            row.totp_secret = secret
            session.add(row)
        client = app.test_client()
        response = client.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD})
        assert response.status_code == 302, response.text
        agent.totp_secret = secret
        return Staff(agent, client, secret)

    return make


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
