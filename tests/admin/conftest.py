"""Fixtures for agent administration: an admin with TOTP signed in, the outbox, the mailed set-password link."""
from __future__ import annotations

import pytest

from support.models import Role
from sent_mail import read_outbox


@pytest.fixture
def admin(staff):
    """``admin() -> Staff``: an admin with TOTP set up, signed in in a client of their own."""
    return lambda: staff(Role.admin)


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
