"""Fixtures: an app per test on a fresh database, SQLite and PostgreSQL alike.

Each backend's schema is migrated once per run into a template (a SQLite file, a
PostgreSQL template database); every test gets its own copy (on PostgreSQL made ahead and
dropped behind the tests, ``postgres_copies``). PostgreSQL runs when
TEST_DATABASE_URL names a database on a server we may create databases on (.ci/run
does); otherwise those tests are skipped with the reason shown. On PostgreSQL the schema
is migrated as TEST_DATABASE_URL's user (the owner) and the app connects as
TEST_APP_ROLE (default rd_app, created when missing), as in production; tests that must
act as the owner (a forger with full database access) use ``owner_engine``.

``make test`` runs the tests in parallel (pytest-xdist): every database name carries the
worker's id, so two workers never share a template or a test database.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager

import pyotp
import pytest
from argon2 import PasswordHasher, profiles
from flask.testing import FlaskClient
import s3server
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from support import create_app, db, imei
from support.audit import Actor
from support.directory import directory
from support.models import Agent, Role

from postgres_copies import TemplateCopies
from staff import PASSWORD, Staff

PG_URL = os.environ.get("TEST_DATABASE_URL")
APP_ROLE = os.environ.get("TEST_APP_ROLE", "rd_app")
#: "gw0", "gw1" … under pytest-xdist, "main" in a plain run
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="PostgreSQL run skipped: set TEST_DATABASE_URL (.ci/run does)")),
]


def _migrate(url: str, tmp_path, owner_url: str | None = None) -> None:
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": url,
                      "MIGRATION_DATABASE_URL": owner_url, "INSTANCE_PATH": str(tmp_path / "instance")})
    db.upgrade(app)
    db.engine(app).dispose()


def _admin_engine():
    return create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")


def _as_app_role(owner_url: str) -> str:
    """The same database, reached as the app's role (no password: the server trusts it)."""
    return make_url(owner_url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def _as_owner(app_url: str) -> str:
    base = make_url(PG_URL)
    return make_url(app_url).set(username=base.username, password=base.password).render_as_string(hide_password=False)


def _create_app_role(admin) -> None:
    """The app's role, LOGIN and nothing more; several test runs may race to create it."""
    with admin.connect() as connection:
        connection.execute(text(
            f'DO $$ BEGIN CREATE ROLE "{APP_ROLE}" LOGIN; '
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """Argon2id at its cheapest for the tests: still real hashes, checked the real way.

    At production cost (64 MiB, 3 passes: about 0.2 s of CPU) every agent a test makes and
    every sign-in cost more than most tests do; a hash states its own parameters, so
    ``check_password`` verifies either kind.
    """
    from support import passwords

    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "_DUMMY", cheap.hash("not a real password"))
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory):
    """This worker's template, migrated once, and its copies (``postgres_copies``)."""
    base = make_url(PG_URL)
    prefix = f"{base.database}_{WORKER}"
    template = f"{prefix}_tpl"
    admin = _admin_engine()
    _create_app_role(admin)
    with admin.connect() as connection:
        stale = connection.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                                   {"pattern": f"{prefix}\\_t%"}).scalars().all()  # a run that died (its template too)
        for name in stale:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    owner_url = base.set(database=template).render_as_string(hide_password=False)
    _migrate(_as_app_role(owner_url), tmp_path_factory.mktemp("pg"), owner_url)
    databases = TemplateCopies(base, template, prefix)
    yield databases
    databases.close()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, migrated database for one test, as the app reaches it (its role on PostgreSQL)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    databases = request.getfixturevalue("postgres_databases")
    name = databases.take()
    yield _as_app_role(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    databases.give_back(name)


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto's server mode) on 127.0.0.1, one for the run (tests/s3server.py)."""
    server = s3server.start()
    yield server
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def storage_settings(request) -> dict:
    """The evidence storage as app settings: the local folder (UPLOAD_DIR), or a new private
    bucket on the test run's S3 server. A test asks for it (with ``app_config``) to run on both."""
    return {} if request.param == "folder" else request.getfixturevalue("s3_server").config()


@pytest.fixture
def migration_database_url(database_url):
    """The same database as its owner (migrations, forgers); None on SQLite, which has no roles."""
    return _as_owner(database_url) if database_url.startswith("postgresql") else None


@pytest.fixture
def app_config(database_url, migration_database_url, tmp_path):
    """The test configuration; tests may change it before asking for ``app``."""
    return {
        "RD_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": migration_database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    db.engine(app).dispose()


@pytest.fixture
def owner_engine(app, migration_database_url):
    """An engine connected as the schema's owner: someone with full database access."""
    if migration_database_url is None:
        yield db.engine(app)
        return
    owner = db.make_engine(migration_database_url)
    yield owner
    owner.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A session for arranging and inspecting data; commit it to make data visible."""
    with app.app_context(), db.transaction(app) as session:
        yield session


TEST_ACTOR = Actor("cli", None, "tests")


@pytest.fixture
def make_agent(app):
    """``make_agent(role=Role.agent, **fields) -> Agent`` (password "correct horse battery")."""
    from support import agents

    def make(role: Role = Role.agent, email: str | None = None, name: str | None = None, password: str = PASSWORD):
        with app.app_context(), db.transaction(app) as session:
            return agents.create_agent(session, email=email or f"{role.value}-{uuid.uuid4().hex[:6]}@example.test",
                                       name=name or f"Test {role.value}", role=role, password=password,
                                       actor=TEST_ACTOR)

    return make


@pytest.fixture
def login(client, make_agent):
    """``login(role) -> Agent``: create an agent of that role and sign the client in."""

    def sign_in(role: Role = Role.agent, **fields):
        agent = make_agent(role, **fields)
        response = client.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return agent

    return sign_in


@pytest.fixture
def tx(app):
    """``with tx() as session``: one committed transaction inside the app context."""

    @contextmanager
    def transaction():
        with app.app_context(), db.transaction(app) as session:
            yield session

    return transaction


@pytest.fixture
def browser_of(app):
    """``browser_of(email, password=...) -> client``: a test client of its own, signed in as that agent."""

    def open_session(email: str, password: str = PASSWORD) -> FlaskClient:
        browser = app.test_client()
        response = browser.post("/agent/sign-in", data={"email": email, "password": password})
        assert response.status_code == 302, response.text
        return browser

    return open_session


@pytest.fixture
def staff(make_agent, tx, browser_of):
    """``staff(role, totp=True) -> Staff``: an agent (with a TOTP secret) signed in in a client of its own."""

    def make(role: Role = Role.agent, totp: bool = True) -> Staff:
        agent = make_agent(role)
        secret = pyotp.random_base32() if totp else None
        with tx() as session:
            session.get(Agent, agent.id).totp_secret = secret
        agent.totp_secret = secret
        return Staff(agent, browser_of(agent.email), secret, tx)

    return make


@pytest.fixture
def make_account(app):
    """``make_account(password=..., email=..., phone=...) -> Account``."""

    def make(password: str = "right-password", email: str | None = None, phone: str | None = None):
        with app.app_context(), db.transaction(app) as session:
            return directory(session, app.config).add_account(password=password, email=email, phone=phone)

    return make


@pytest.fixture
def make_device(app):
    """``make_device(account=None, imei1=None, **fields) -> Device`` with valid IMEIs."""
    from support import imei

    def make(account=None, imei1: str | None = None, imei2: str | None = None, lost_or_stolen: bool = False, **fields):
        with app.app_context(), db.transaction(app) as session:
            accounts = directory(session, app.config)
            owner = accounts.get_account(account.id) if account is not None else None
            device = accounts.add_device(imei1=imei1 or imei.generate(), imei2=imei2, account=owner, **fields)
            if lost_or_stolen:
                accounts.set_lost_or_stolen(device, True)
            return device

    return make


@pytest.fixture
def claim_fields():
    """``claim_fields(kind, **overrides)``: a valid /recover form, without files."""

    def fields(kind: str = "device_unbind", **overrides) -> dict:
        return {"kind": kind, "hint_email": "old@example.test", "imei1": imei.generate(), "model": "Phone 12",
                "purchase_date": "2024-03-01", "shop": "Corner Shop", "claimant_name": "Maria Rossi",
                "contact_email": "maria@example.test", "language": "en", "consent": "y", **overrides}

    return fields


@pytest.fixture
def make_case(app):
    """``make_case(kind=..., status=..., **claim_fields) -> (Case, token)``.

    Files a case the way a claimant does (audited), confirms the contact email unless
    ``status`` is ``submitted``, and walks the lifecycle to ``status`` when asked.
    """
    from support import cases, imei
    from support.models import CaseKind, CaseStatus

    def make(kind: CaseKind = CaseKind.device_unbind, status: CaseStatus = CaseStatus.new, **fields):
        claim = cases.Claim(**{
            "kind": kind, "claimant_name": "Test Claimant", "contact_email": "claimant@example.test",
            "language": "en", "imei1": imei.generate(), "hint_email": "old@example.test", **fields,
        })
        with app.app_context(), db.transaction(app) as session:
            case, token = cases.file_case(session, claim=claim, config=app.config)
            if status != CaseStatus.submitted:
                cases.confirm_contact(session, case)
            path = {
                CaseStatus.in_review: [CaseStatus.in_review],
                CaseStatus.waiting_on_claimant: [CaseStatus.in_review, CaseStatus.waiting_on_claimant],
                CaseStatus.approved: [CaseStatus.in_review, CaseStatus.approved],
                CaseStatus.rejected: [CaseStatus.in_review, CaseStatus.rejected],
                CaseStatus.closed: [CaseStatus.closed],
            }.get(status, [])
            for step in path:
                cases.transition(session, case, step, actor=TEST_ACTOR)
            return case, token

    return make


# -- a real browser -------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (skipped with a reason when missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test (phone-sized when a test resizes it)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pytest_report_header(config):
    if not PG_URL:
        return "PostgreSQL: not configured (set TEST_DATABASE_URL); every PostgreSQL variant is skipped"
    return f"PostgreSQL: {make_url(PG_URL).render_as_string(hide_password=True)}"


def pytest_terminal_summary(terminalreporter):
    skipped = [report for report in terminalreporter.stats.get("skipped", []) if "[postgresql]" in report.nodeid]
    if skipped and not PG_URL:
        terminalreporter.write_line(
            f"PostgreSQL run skipped ({len(skipped)} tests): set TEST_DATABASE_URL to a database on a server "
            "where databases may be created (.ci/run does)", yellow=True)
