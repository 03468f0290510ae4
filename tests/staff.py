"""A signed-in member of the support team, as the ``staff`` fixture makes them."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import pyotp
from flask.testing import FlaskClient

from support.models import Agent

#: every test agent's password
PASSWORD = "correct horse battery"


@dataclass
class Staff:
    agent: Agent
    client: FlaskClient
    secret: str | None
    tx: Callable

    def code(self, steps_ahead: int = 0) -> str:
        """A TOTP code; ``steps_ahead`` gives a fresh one when this agent already used now's."""
        return pyotp.TOTP(self.secret).at(time.time() + 30 * steps_ahead)

    def next_window(self) -> None:
        """As if the codes this agent used had expired: now's code is good again."""
        with self.tx() as session:
            session.get(Agent, self.agent.id).totp_last_step = None

    def fresh_code(self) -> str:
        """Now's code, as if the 30 s of any code used before had passed (each is good once)."""
        self.next_window()
        return self.code()
