"""Settings: defaults, then the environment, then the test overrides.

The app runs in one of three modes (``RD_ENV``): ``production`` (the default, e.g.
under gunicorn), ``development`` (the repository's ``.flaskenv`` and ``make run``) and
``testing``. Outside development and testing a real ``SECRET_KEY`` is required to serve
(``require_secret``; the ``flask`` command builds the app without one, so ``--help`` and
the admin commands work before the secret is set), and
every cooling-off lasts at least ``MIN_PRODUCTION_COOLING_OFF_HOURS``: an account's owner
must have time to read the notice and object before the change happens (0 stays possible
in development and testing, for demos and tests).
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
#: the shortest cooling-off production accepts between a notice and the change it announces
MIN_PRODUCTION_COOLING_OFF_HOURS = 24
#: every setting that holds back a change to an account so its owner can object
COOLING_OFF_SETTINGS = ("UNBIND_COOLING_OFF_HOURS", "CONTACT_COOLING_OFF_HOURS")
#: Flask-Limiter's counters in the memory of each process: right for one process only
PER_PROCESS_LIMITS = "memory://"
#: where ``make run`` serves when PORT is not changed; production must say where it lives
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


class ConfigError(RuntimeError):
    """The configuration cannot be run safely."""


def _parsed(name: str, default, kind: type, what: str):
    value = os.environ.get(name, default)
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {value!r}.") from None


def _number(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def _int(name: str, default: int) -> int:
    return _parsed(name, default, int, "a whole number")


def from_environment(instance_path: str) -> dict:
    """Every setting the README documents, read from the environment."""
    instance = Path(instance_path)
    env = os.environ.get("RD_ENV", "production")
    return {
        "RD_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'recovery-desk.sqlite'}"),
        "MIGRATION_DATABASE_URL": os.environ.get("MIGRATION_DATABASE_URL"),
        "DATABASE_APP_ROLE": os.environ.get("DATABASE_APP_ROLE"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(ROOT / "uploads")),
        # evidence files (support/storage): empty for UPLOAD_DIR, s3://bucket[/prefix] for a bucket
        "STORAGE_URL": os.environ.get("STORAGE_URL", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL"),
        "AWS_REGION": os.environ.get("AWS_REGION"),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(instance / "outbox")),
        "SMTP_URL": os.environ.get("SMTP_URL"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Recovery Desk <support@recovery-desk.invalid>"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL"),
        "PUBLIC_URL_ALLOW_HTTP": os.environ.get("PUBLIC_URL_ALLOW_HTTP", "") not in ("", "0"),
        # None when unset: development and testing count in memory, production must choose (``finalise``)
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        "ACCOUNT_LOCK_THRESHOLD": _int("ACCOUNT_LOCK_THRESHOLD", 10),
        "AGENT_LOCK_THRESHOLD": _int("AGENT_LOCK_THRESHOLD", 10),
        "AGENT_LOCK_MINUTES": _int("AGENT_LOCK_MINUTES", 15),
        "MAX_FILE_MB": _int("MAX_FILE_MB", 15),
        "MAX_REQUEST_MB": _int("MAX_REQUEST_MB", 60),
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 50_000_000),
        # a case report downloaded from the desk covers at most this much (413 beyond)
        "REPORT_MAX_EVIDENCE": _int("REPORT_MAX_EVIDENCE", 120),
        "REPORT_MAX_MESSAGES": _int("REPORT_MAX_MESSAGES", 1500),
        "SLA_HOURS_LOCKED_ACCOUNT": _int("SLA_HOURS_LOCKED_ACCOUNT", 24),
        "SLA_HOURS_LOST_CREDENTIALS": _int("SLA_HOURS_LOST_CREDENTIALS", 72),
        "SLA_HOURS_DEVICE_UNBIND": _int("SLA_HOURS_DEVICE_UNBIND", 120),
        "REMIND_AFTER_DAYS": _int("REMIND_AFTER_DAYS", 5),
        "AUTO_CLOSE_AFTER_DAYS": _int("AUTO_CLOSE_AFTER_DAYS", 14),
        "REOPEN_WINDOW_DAYS": _int("REOPEN_WINDOW_DAYS", 30),
        "RETENTION_DAYS": _int("RETENTION_DAYS", 365),
        "UNBIND_COOLING_OFF_HOURS": _int("UNBIND_COOLING_OFF_HOURS", 72),
        "CONTACT_COOLING_OFF_HOURS": _int("CONTACT_COOLING_OFF_HOURS", 72),
        "STEP_UP_MINUTES": _int("STEP_UP_MINUTES", 10),
        # "someone else is viewing this case": the case page beats every POLL seconds; a beat counts for TTL
        "PRESENCE_POLL_SECONDS": _int("PRESENCE_POLL_SECONDS", 15),
        "PRESENCE_TTL_SECONDS": _int("PRESENCE_TTL_SECONDS", 45),
        # how long the emailed link that sets an invited or reset agent's password works
        "AGENT_LINK_HOURS": _int("AGENT_LINK_HOURS", 72),
        "AUDIT_SIGNING_KEY": os.environ.get("AUDIT_SIGNING_KEY"),
        # HMAC key of the fingerprints that stand for personal values in the audit text (support/personal.py)
        "AUDIT_PERSONAL_KEY": os.environ.get("AUDIT_PERSONAL_KEY"),
        "AUDIT_CHECKPOINT_EVERY": _int("AUDIT_CHECKPOINT_EVERY", 100),
        "AUDIT_CHECKPOINT_MINUTES": _int("AUDIT_CHECKPOINT_MINUTES", 60),
        "AUDIT_WITNESS_FILE": os.environ.get("AUDIT_WITNESS_FILE", str(instance / "audit-witness.log")),
        # the cases erased, for a restore to erase again (support/erasure_ledger.py)
        "ERASURE_LEDGER_FILE": os.environ.get("ERASURE_LEDGER_FILE", str(instance / "erasure-ledger.log")),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # background jobs (support/jobs): SQLite in instance/ unless a redis:// URL is given
        "JOBS_URL": os.environ.get("JOBS_URL"),
        "JOBS_NAME": os.environ.get("JOBS_NAME", "recovery-desk"),
        "JOBS_WORKERS": _int("JOBS_WORKERS", 2),
        "JOBS_KEEP_DAYS": _int("JOBS_KEEP_DAYS", 7),
        # a queued job not on the queue after this long, one running this long, or one whose worker
        # has not said it runs it for this long was lost (support/jobs/rescue.py, support/jobs/heartbeat.py)
        "JOBS_LOST_QUEUED_MINUTES": _int("JOBS_LOST_QUEUED_MINUTES", 10),
        "JOBS_LOST_RUNNING_MINUTES": _int("JOBS_LOST_RUNNING_MINUTES", 30),
        "JOBS_ALIVE_SECONDS": _number("JOBS_ALIVE_SECONDS", 20),
        "JOBS_LOST_SILENT_SECONDS": _int("JOBS_LOST_SILENT_SECONDS", 120),
        # operators (support/ops): who may read /metrics, and the log lines' format
        "METRICS_ALLOWED_NETWORKS": os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1"),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
    }


def finalise(config: dict, instance_path: str) -> None:
    """Derive the settings that depend on the mode; refuse unsafe production settings."""
    env = config["RD_ENV"]
    if env not in {"production", "development", "testing"}:
        raise ConfigError(f"RD_ENV must be production, development or testing, not {env!r}")
    if not config.get("SECRET_KEY") and env != "production":
        config["SECRET_KEY"] = _development_secret(Path(instance_path))
    _refuse_short_cooling_off(config)
    if not isinstance(config["RETENTION_DAYS"], int) or config["RETENTION_DAYS"] < 1:
        raise ConfigError(f"RETENTION_DAYS must be at least 1, not {config['RETENTION_DAYS']!r}: "
                          "0 would erase every closed case at once.")
    if not config.get("RATELIMIT_STORAGE_URI") and env != "production":
        config["RATELIMIT_STORAGE_URI"] = PER_PROCESS_LIMITS
    if not config.get("PUBLIC_URL") and env != "production":
        config["PUBLIC_URL"] = DEVELOPMENT_PUBLIC_URL
    config["PUBLIC_URL"] = check_public_url(config.get("PUBLIC_URL"), production=env == "production",
                                            allow_http=bool(config.get("PUBLIC_URL_ALLOW_HTTP")))
    config["METRICS_ALLOWED_NETWORKS"] = networks(config["METRICS_ALLOWED_NETWORKS"])
    if config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, not {config['LOG_FORMAT']!r}")
    if not 0 < config["JOBS_ALIVE_SECONDS"] * 2 <= config["JOBS_LOST_SILENT_SECONDS"]:
        raise ConfigError(f"JOBS_ALIVE_SECONDS ({config['JOBS_ALIVE_SECONDS']}) must be above 0 and at most half of "
                          f"JOBS_LOST_SILENT_SECONDS ({config['JOBS_LOST_SILENT_SECONDS']}): a worker that beats "
                          "less often would have its running jobs sent again")
    config["TESTING"] = env == "testing" or config.get("TESTING", False)
    config["MAX_CONTENT_LENGTH"] = config["MAX_REQUEST_MB"] * 1024 * 1024
    secure = env == "production"  # development and tests run on plain http://127.0.0.1
    config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        BABEL_DEFAULT_LOCALE="en",
        RATELIMIT_HEADERS_ENABLED=True,
    )


def _refuse_short_cooling_off(config: dict) -> None:
    """No mode may run a negative cooling-off; production none shorter than the floor."""
    floor = MIN_PRODUCTION_COOLING_OFF_HOURS if config["RD_ENV"] == "production" else 0
    for name in COOLING_OFF_SETTINGS:
        hours = config[name]
        if not isinstance(hours, int) or hours < floor:
            where = "in production (RD_ENV=production)" if floor else "even outside production"
            raise ConfigError(f"{name} must be at least {floor} hours {where}, not {hours!r}: "
                              "the account's owner needs time to read the notice and object.")


def networks(value) -> tuple:
    """A comma-separated list of addresses or CIDR ranges (``10.0.0.0/8,::1``) as networks;
    an empty list allows no one. Already parsed networks are returned as they are."""
    if not isinstance(value, str):
        return tuple(value)
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as error:
        raise ConfigError(f"METRICS_ALLOWED_NETWORKS must list addresses or CIDR ranges: {error}") from None


def check_public_url(url: str | None, *, production: bool, allow_http: bool) -> str:
    """``url`` without a trailing slash, or ``ConfigError`` saying what is wrong with it.

    Every emailed link is PUBLIC_URL plus a path, so it must be an absolute http(s) URL
    with a host and neither query, fragment nor credentials; production needs https unless
    ``PUBLIC_URL_ALLOW_HTTP=1`` says plain http is meant.
    """
    if not url:
        raise ConfigError("PUBLIC_URL must be set to the address people use to reach the desk.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError here
    except ValueError as error:
        raise ConfigError(f"PUBLIC_URL is not a valid URL: {url!r}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"PUBLIC_URL must be an absolute http(s) URL with a host, not {url!r}")
    if "?" in url or "#" in url:
        raise ConfigError(f"PUBLIC_URL must not have a query or fragment: {url!r}")
    if "@" in parts.netloc or any(ord(char) <= 32 or char == "\\" for char in url):
        raise ConfigError(f"PUBLIC_URL must not carry credentials, spaces or backslashes: {url!r}")
    if production and parts.scheme != "https" and not allow_http:
        raise ConfigError("PUBLIC_URL must use https in production (PUBLIC_URL_ALLOW_HTTP=1 allows http).")
    return url.rstrip("/")


def require_secret(config: dict) -> None:
    """Refuse to serve without secrets: sessions and reset links would be forgeable, and
    every write would fail when the app signs its next audit checkpoint."""
    required = ("SECRET_KEY", "AUDIT_SIGNING_KEY", "AUDIT_PERSONAL_KEY") if config["RD_ENV"] == "production" else ("SECRET_KEY",)
    for name in required:
        if not config.get(name):
            raise ConfigError(f"{name} must be set in production (RD_ENV=production).")


def require_shared_limits(config: dict) -> None:
    """Refuse to serve in production until ``RATELIMIT_STORAGE_URI`` says where the counters live.

    Counted in each process's memory, every limit is multiplied by the number of processes
    and servers (``gunicorn -w 4`` on two machines lets a guesser try eight times as often),
    and a limit hit on one server is unknown to the next. So production names a shared
    store (``redis://…``), or ``memory://`` on purpose for a desk served by one process.
    """
    if config["RD_ENV"] == "production" and not config.get("RATELIMIT_STORAGE_URI"):
        raise ConfigError("RATELIMIT_STORAGE_URI must be set in production (RD_ENV=production): redis://host:6379/0, "
                          "shared by every process and server, or memory:// for a desk served by one process only.")


def _development_secret(instance: Path) -> str:
    """A per-checkout random key kept in instance/, so development sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
