"""HTTP hardening: the browser's security headers, no caching of personal pages, no server
versions, the trusted-proxy setting, a favicon, and a CLI that works before SECRET_KEY is set."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from support import create_app, db
from support.config import ROOT
from support.models import Role


def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http in tests and development
    assert 'rel="icon"' in response.text and client.get("/static/favicon.svg").status_code == 200


def test_nothing_personal_is_cached(client, login, make_case, app):
    assert client.get("/account/sign-in").headers["Cache-Control"] == "no-store"
    assert client.get("/account/reset").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
    login(Role.agent)
    case, _token = make_case()
    for url in ("/queue", f"/cases/{case.number}", "/agent/profile"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_production_sends_hsts(app_config):
    app = create_app({**app_config, "RD_ENV": "production", "PUBLIC_URL": "https://desk.example.test",
                      "AUDIT_SIGNING_KEY": "11" * 32, "AUDIT_PERSONAL_KEY": "22" * 32,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    try:
        assert "max-age=" in app.test_client().get("/healthz").headers["Strict-Transport-Security"]
    finally:
        db.engine(app).dispose()


def test_the_development_server_names_no_version(live_server):
    with urllib.request.urlopen(f"{live_server}/healthz") as response:
        server = response.headers["Server"]
    assert server == "Recovery Desk"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_names_no_version(tmp_path):
    port = _free_port()
    env = {**os.environ, "RD_ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite",
           "INSTANCE_PATH": str(tmp_path / "instance")}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1", "app:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:  # wait for the worker, however long the machine takes
            if "Booting worker" in line:
                break
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
                    server_header = response.headers["Server"]
                break
            except OSError:
                server.poll()
                assert server.returncode is None
        assert server_header == "gunicorn"
    finally:
        server.terminate()
        server.wait()


@pytest.mark.parametrize("trusted, separate", [(0, False), (1, True)])
def test_per_address_limits_behind_trusted_proxies(app_config, trusted, separate):
    app = create_app({**app_config, "TRUSTED_PROXIES": trusted, "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    client = app.test_client()
    try:
        def ask(address: str) -> int:
            return client.post("/account/reset", data={"email": "nobody@example.test"},
                               headers={"X-Forwarded-For": address}).status_code

        assert [ask("203.0.113.7") for _ in range(10)] == [200] * 10
        assert ask("203.0.113.7") == 429
        assert (ask("198.51.100.4") == 200) is separate
    finally:
        db.engine(app).dispose()


def test_the_audit_trail_records_the_client_behind_a_trusted_proxy(app_config):
    from sqlmodel import select

    from support.models import AuditEvent

    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    try:
        app.test_client().post("/agent/sign-in", data={"email": "nobody@example.test", "password": "x"},
                               headers={"X-Forwarded-For": "198.51.100.23"})
        with db.transaction(app) as session:
            event = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event.ip == "198.51.100.23"
    finally:
        db.engine(app).dispose()


def test_the_cli_lists_its_commands_without_a_secret_key(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env.update(RD_ENV="production", INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/cli.sqlite",
               PUBLIC_URL="https://desk.example.test")
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run([str(flask), "--app", "app", "--help"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for command in ("create-agent", "agents", "audit", "directory", "init-db", "actions"):
        assert command in result.stdout


def test_without_a_secret_key_the_app_refuses_to_serve(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # what the flask command sets
    app = create_app({"RD_ENV": "production", "INSTANCE_PATH": str(tmp_path), "PUBLIC_URL": "https://desk.example.test",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.test_client().get("/healthz").status_code == 500
