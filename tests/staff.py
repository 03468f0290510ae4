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


def sign_in_page(page, live_server: str, email: str, password: str = PASSWORD, *, lands_on: str | None = None) -> None:
    """Sign an agent in through the form on a browser page; wait until the page has left the
    form (for ``lands_on``, a path, when the test cares where it lands)."""
    page.goto(f"{live_server}/agent/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if lands_on:
        page.wait_for_url(f"{live_server}{lands_on}")
    else:
        page.wait_for_url(lambda url: "/agent/sign-in" not in url)
