"""Links that leave the desk come from PUBLIC_URL only, never from the request's headers."""
from __future__ import annotations

import re

import pytest

from support import create_app
from sent_mail import read_outbox
from support.config import ConfigError, check_public_url

PUBLIC = "https://desk.example.org/help"
URL = re.compile(r"https?://[^\s<>\"]+")


@pytest.mark.parametrize("url", [
    "desk.example.org", "/relative", "ftp://desk.example.org", "https://", "https:///path",
    "https://desk.example.org/?next=x", "https://desk.example.org/#top", "https://desk.example.org?",
    "https://user:pw@desk.example.org", "https://desk.example.org:port", "https://desk.example.org/a b",
    "https://desk.example.org\\@evil.test", "javascript:alert(1)", "",
])
def test_public_url_must_be_an_absolute_http_url_with_a_host(url):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        check_public_url(url, production=False, allow_http=False)


def test_public_url_needs_https_in_production_unless_http_is_allowed(monkeypatch, tmp_path):
    assert check_public_url("https://desk.example.org/help/", production=True, allow_http=False) == PUBLIC
    assert check_public_url("http://desk.internal:8080", production=False, allow_http=False)
    with pytest.raises(ConfigError, match="https"):
        check_public_url("http://desk.example.org", production=True, allow_http=False)
    assert check_public_url("http://desk.example.org", production=True, allow_http=True)
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("AUDIT_PERSONAL_KEY", "22" * 32)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be set"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("PUBLIC_URL", "http://desk.example.org")
    with pytest.raises(ConfigError, match="https"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("PUBLIC_URL_ALLOW_HTTP", "1")
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["PUBLIC_URL"] == "http://desk.example.org"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_URL": PUBLIC}


@pytest.mark.parametrize("headers", [{"Host": "attacker.example"}, {"X-Forwarded-Host": "attacker.example"},
                                     {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example",
                                      "X-Forwarded-Proto": "http", "X-Forwarded-Prefix": "/evil"}])
def test_a_reset_link_points_at_public_url_whatever_the_request_says(client, make_account, app_config, headers):
    make_account(email="owner@example.test")
    response = client.post("/account/reset", data={"email": "owner@example.test"}, headers=headers)
    assert response.status_code == 200
    [mail] = read_outbox(app_config)
    links = URL.findall(mail.body)
    assert links and all(link.startswith(PUBLIC + "/account/reset/") for link in links), links
    assert "attacker" not in mail.body and "evil" not in mail.body
