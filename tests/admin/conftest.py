"""Fixtures for agent administration: an admin with TOTP signed in, agents' own browsers, the outbox."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import pyotp
import pytest
from flask.testing import FlaskClient

from support import db
from support.models import Agent, Role
from sent_mail import read_outbox

PASSWORD = "correct horse battery"


@dataclass
class Admin:
    agent: Agent
    client: FlaskClient
    secret: str
    tx: Callable

    def code(self) -> str:
        """Now's code, as if the 30 s of any code used before had passed (each is good once)."""
        with self.tx() as session:
            session.get(Agent, self.agent.id).totp_last_step = None
        return pyotp.TOTP(self.secret).now()


@pytest.fixture
def tx(app):
    @contextmanager
    def transaction():
        with app.app_context(), db.transaction(app) as session:
            yield session

    return transaction


@pytest.fixture
def browser_of(app):
    """``browser_of(email, password=PASSWORD) -> client`` signed in as that agent."""

    def open_session(email: str, password: str = PASSWORD) -> FlaskClient:
        browser = app.test_client()
        response = browser.post("/agent/sign-in", data={"email": email, "password": password})
        assert response.status_code == 302, response.text
        return browser

    return open_session


@pytest.fixture
def admin(make_agent, tx, browser_of):
    """``admin() -> Admin``: an admin with TOTP set up, signed in in a client of their own."""

    def make() -> Admin:
        agent = make_agent(Role.admin)
        secret = pyotp.random_base32()
        with tx() as session:
            session.get(Agent, agent.id).totp_secret = secret
        return Admin(agent, browser_of(agent.email), secret, tx)

    return make


@pytest.fixture
def outbox(app_config):
    return lambda: read_outbox(app_config)


@pytest.fixture
def mailed_link(outbox):
    """``mailed_link(to) -> path`` of the newest set-password link mailed to ``to``, after checking
    it points at PUBLIC_URL (not at the test server)."""

    def find(to: str) -> str:
        body = [sent.body for sent in outbox() if sent.to == to and "/agent/password/" in sent.body][-1]
        link = body.split("/agent/password/")[0].split()[-1] + "/agent/password/" + \
            body.split("/agent/password/")[1].split()[0]
        assert link.startswith("http://127.0.0.1:5000/agent/password/"), link  # PUBLIC_URL in testing
        return link.removeprefix("http://127.0.0.1:5000")

    return find
