"""Cooling-off floor: production never runs a change to an account without time to object."""
import pytest

from support import create_app
from support.config import ConfigError

SETTINGS = ("UNBIND_COOLING_OFF_HOURS", "CONTACT_COOLING_OFF_HOURS")


def production_app(monkeypatch, tmp_path, **environment):
    monkeypatch.setenv("RD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("AUDIT_PERSONAL_KEY", "22" * 32)
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.org")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})


@pytest.mark.parametrize("name", SETTINGS)
@pytest.mark.parametrize("hours", ["0", "-1", "-72", "23"])
def test_production_refuses_a_cooling_off_under_a_day(monkeypatch, tmp_path, name, hours):
    with pytest.raises(ConfigError, match=rf"{name} must be at least 24 hours in production"):
        production_app(monkeypatch, tmp_path, **{name: hours})


@pytest.mark.parametrize("name", SETTINGS)
def test_production_refuses_a_short_cooling_off_given_by_test_config(monkeypatch, tmp_path, name):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("AUDIT_SIGNING_KEY", "11" * 32)
    monkeypatch.setenv("AUDIT_PERSONAL_KEY", "22" * 32)
    with pytest.raises(ConfigError, match=name):
        create_app({"RD_ENV": "production", "INSTANCE_PATH": str(tmp_path), name: 0,
                    "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})


def test_production_accepts_a_day_and_defaults_to_three(monkeypatch, tmp_path):
    app = production_app(monkeypatch, tmp_path, UNBIND_COOLING_OFF_HOURS="24")
    assert app.config["UNBIND_COOLING_OFF_HOURS"] == 24
    assert app.config["CONTACT_COOLING_OFF_HOURS"] == 72


@pytest.mark.parametrize("env", ["development", "testing"])
def test_development_and_testing_may_run_without_cooling_off(tmp_path, env):
    app = create_app({"RD_ENV": env, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite",
                      "UNBIND_COOLING_OFF_HOURS": 0, "CONTACT_COOLING_OFF_HOURS": 0})
    assert app.config["UNBIND_COOLING_OFF_HOURS"] == app.config["CONTACT_COOLING_OFF_HOURS"] == 0


@pytest.mark.parametrize("name", SETTINGS)
def test_a_negative_cooling_off_is_refused_in_every_mode(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"{name} must be at least 0 hours"):
        create_app({"RD_ENV": "development", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite", name: -1})


def test_a_setting_that_is_not_a_number_is_a_clear_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CONTACT_COOLING_OFF_HOURS", "three days")
    with pytest.raises(ConfigError, match="CONTACT_COOLING_OFF_HOURS must be a whole number"):
        create_app({"RD_ENV": "testing", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
