"""The deploy/ example stays consistent with the app (Docker is not run here; the nginx site is, in tests/load/test_behind_nginx.py):
the compose file parses and wires the shared state, the nginx site passes what the app
believes and takes the app's upload limit, the env example holds no secret."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from support.config import from_environment

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SECRETS = ("SECRET_KEY", "AUDIT_SIGNING_KEY", "AUDIT_PERSONAL_KEY", "POSTGRES_PASSWORD", "RD_OWNER_PASSWORD", "RD_APP_PASSWORD",
           "S3_ACCESS_KEY", "S3_SECRET_KEY", "SMTP_URL")


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _nginx() -> str:
    """The site's directives, without its comments."""
    return re.sub(r"#.*", "", (DEPLOY / "nginx" / "recovery-desk.conf").read_text())


def test_compose_runs_two_app_servers_a_worker_and_nginx_on_shared_state():
    services = _compose()["services"]
    assert {"postgres", "redis", "minio", "migrate", "app1", "app2", "worker", "nginx"} <= set(services)
    for name in ("app1", "app2", "worker", "migrate"):
        environment = services[name]["environment"]
        assert environment["RD_ENV"] == "production"
        assert environment["RATELIMIT_STORAGE_URI"].startswith("redis://")
        assert environment["JOBS_URL"].startswith("redis://")
        assert environment["STORAGE_URL"].startswith("s3://")
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://rd_app:")
        assert environment["TRUSTED_PROXIES"] == "1"
    assert services["migrate"]["environment"]["MIGRATION_DATABASE_URL"].startswith("postgresql+psycopg://rd_owner:")
    assert services["app1"]["command"] == services["app2"]["command"]
    assert "--timeout" in services["app1"]["command"] and services["worker"]["stop_signal"] == "SIGINT"


def test_every_setting_compose_reads_is_in_the_env_example_and_no_secret_is_filled_in():
    example = (DEPLOY / "env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, re.MULTILINE))
    wanted = set(re.findall(r"\$\{([A-Z0-9_]+)", (DEPLOY / "docker-compose.yml").read_text()))
    assert wanted <= set(assigned), wanted - set(assigned)
    assert all(assigned[name] == "" for name in SECRETS)


def test_nginx_passes_what_the_app_believes_and_its_upload_limit():
    site = _nginx()
    limit_mb = int(re.search(r"client_max_body_size\s+(\d+)m;", site)[1])
    app_limit = from_environment("/nonexistent")["MAX_REQUEST_MB"]
    assert app_limit <= limit_mb <= app_limit * 1.25  # the app answers just-too-large forms itself
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
                   "X-Forwarded-Host $host"):
        assert f"proxy_set_header {header};" in site
    assert "non_idempotent" not in site  # a POST is never replayed on another server
    upstream = re.search(r"upstream recovery_desk \{(.*?)\}", site, re.DOTALL)[1]
    assert set(re.findall(r"server (\w+):8000", upstream)) == {"app1", "app2"} <= set(_compose()["services"])
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", site)[1])
    assert read_timeout > 120  # longer than gunicorn's --timeout


def test_systemd_units_run_the_web_server_the_worker_and_the_migration():
    units = {}
    for path in (DEPLOY / "systemd").glob("*.service"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(path)
        units[path.stem] = unit["Service"]
    assert "gunicorn" in units["recovery-desk-web"]["ExecStart"]
    assert units["recovery-desk-worker"]["ExecStart"].endswith("flask --app app worker")
    assert units["recovery-desk-worker"]["KillSignal"] == "SIGINT"
    assert units["recovery-desk-migrate"]["ExecStart"].endswith("flask --app app init-db")
    assert all(unit["EnvironmentFile"] == "/etc/recovery-desk/recovery-desk.env" for unit in units.values())
