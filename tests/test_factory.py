import pytest

from support import create_app
from support.config import ConfigError


def test_config_honours_test_config(tmp_path):
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.testing
    assert app.config["DATABASE_URL"].endswith("a.sqlite")


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.test")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_to_start_without_audit_signing_key(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.test")
    with pytest.raises(ConfigError, match="AUDIT_SIGNING_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_to_start_without_audit_personal_key(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDIT_PERSONAL_KEY", raising=False)
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.test")
    with pytest.raises(ConfigError, match="AUDIT_PERSONAL_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.org")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("AUDIT_PERSONAL_KEY", "22" * 32)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug


def _production_environment(monkeypatch) -> None:
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.org")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("AUDIT_PERSONAL_KEY", "22" * 32)


def test_production_refuses_to_start_without_saying_where_rate_limits_are_counted(monkeypatch, tmp_path):
    _production_environment(monkeypatch)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI must be set in production"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})


def test_production_warns_when_rate_limits_are_counted_per_process(monkeypatch, tmp_path, caplog):
    _production_environment(monkeypatch)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "counts rate limits in this process only" in caplog.text


def test_production_takes_shared_rate_limits_and_their_prefix_from_the_environment(monkeypatch, tmp_path, caplog):
    _production_environment(monkeypatch)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RATELIMIT_KEY_PREFIX", "desk-a")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert (app.config["RATELIMIT_STORAGE_URI"], app.config["RATELIMIT_KEY_PREFIX"]) == ("redis://127.0.0.1:6379/0",
                                                                                          "desk-a")
    assert "this process only" not in caplog.text


def test_outside_production_rate_limits_are_counted_in_memory_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    app = create_app({"RD_ENV": "development", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_development_generates_a_key_in_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"RD_ENV": "development", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


def test_environment_settings_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "u"))
    monkeypatch.setenv("MAIL_OUTBOX_DIR", str(tmp_path / "o"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "u")
    assert app.config["MAIL_OUTBOX_DIR"] == str(tmp_path / "o")
    assert app.config["DATABASE_URL"].endswith("env.sqlite")


def test_home_and_account_sign_in_pages(client):
    assert client.get("/").status_code == 200
    page = client.get("/account/sign-in").text
    assert "Email, phone or account ID" in page and "Password" in page
