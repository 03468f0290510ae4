"""Redirects go only to this site: every ``next`` is judged the way a browser reads it."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from support.models import Role
from support.web import local_target

HOSTILE = [
    "/%09/evil.test",
    "/\t/evil.test",
    "/\\evil.test",
    "\\/evil.test",
    "\\\\evil.test",
    "/%2F%2Fevil.test",
    "/%2f/evil.test",
    "/%5C/evil.test",
    "/%252F/evil.test",
    "//evil.test",
    "///evil.test",
    "/\r\n/evil.test",
    "/\n/evil.test",
    "https:evil.test",
    "https://evil.test/queue",
    "//user:pass@evil.test",
    "/\\user@evil.test",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " //evil.test",
    "\x00//evil.test",
    "/\x00/evil.test",
    "evil.test",
    "",
]
#: header injection: once the browser's drops are applied nothing is left to inject
INJECTION = ["/\r\nLocation: https://evil.test", "/queue\r\nSet-Cookie: planted=1", "/%0d%0aSet-Cookie:%20planted=1"]
LOCAL = ["/queue", "/cases/RD-2026-000001?tab=evidence", "/audit?actor=a%40b", "/@evil.test"]


def lands_on_this_site(location: str) -> bool:
    """Where a browser on http://desk.test would go; the host must stay the desk's."""
    cleaned = location.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")
    return urlsplit(urljoin("http://desk.test/agent/sign-in", cleaned)).netloc == "desk.test"


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert local_target(target) is None


@pytest.mark.parametrize("target", INJECTION)
def test_line_breaks_never_reach_a_header(target):
    kept = local_target(target)
    assert kept is None or ("\r" not in kept and "\n" not in kept and lands_on_this_site(kept))


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_are_kept(target):
    assert local_target(target) == target


def test_agent_sign_in_never_sends_elsewhere(client, make_agent):
    agent = make_agent(Role.agent)
    for target in HOSTILE + INJECTION:
        response = client.post("/agent/sign-in", query_string={"next": target},
                               data={"email": agent.email, "password": "correct horse battery"})
        # a control character (tab, CR, LF) in the query is refused at the door (400)
        assert response.status_code == 400 or (response.status_code == 302 and lands_on_this_site(response.location))
        assert not any("planted" in cookie for cookie in response.headers.getlist("Set-Cookie"))


def test_agent_sign_in_follows_a_local_next(client, make_agent):
    agent = make_agent(Role.agent)
    response = client.post("/agent/sign-in?next=/queue%3Fkind%3Ddevice_unbind",
                           data={"email": agent.email, "password": "correct horse battery"})
    assert response.location == "/queue?kind=device_unbind"


def test_account_sign_in_never_sends_elsewhere(client, make_account):
    make_account(email="owner@example.test")
    for target in ["/%09/evil.test", "//evil.test", "/\r\n/evil.test", "javascript:alert(1)"]:
        response = client.post("/account/sign-in", query_string={"next": target},
                               data={"login": "owner@example.test", "password": "right-password"})
        assert response.status_code in (200, 400) and "Location" not in response.headers


def test_a_refused_form_goes_back_only_to_this_site(client, login, make_case):
    login(Role.agent)
    case, _token = make_case()  # new, not approved: requesting an action is refused
    for target in ["/%09/evil.test", "/\\evil.test", "/%2F%2Fevil.test", "/\r\n/evil.test"]:
        response = client.post(f"/cases/{case.number}/actions", data={"next": target})
        assert 400 <= response.status_code < 500 and "Location" not in response.headers, target
    back = client.post(f"/cases/{case.number}/actions", data={"next": "/queue"})
    assert back.status_code == 303 and back.location == "/queue"
