"""Engine, one session (and one transaction) per request, migrations.

Services only ``flush()``; the request commits once in ``after_request`` when the
response is not an error and nothing was refused, and rolls back otherwise. That is how a
privileged change and its audit event live or die together. A ``Refused`` raised during
the request marks it refused (``refuse``) whatever the response, so a view that redirects
after a refusal commits nothing. What must outlive a refusal (its audit event, a spent
one-time code) is kept with ``keep_when_refused`` and written in a short transaction of
its own after the rollback. CLI commands use ``transaction()``.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from . import db_roles

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine; on SQLite every transaction is BEGIN IMMEDIATE so writers queue, never fail."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["db_engine"]


def _open(app: Flask | None = None) -> Session:
    """A new session, with what other modules watch on every session (``db_session_hooks``)."""
    app = app or current_app
    db_session = Session(engine(app), expire_on_commit=False)
    for hook in app.extensions.get("db_session_hooks", ()):
        hook(db_session)
    return db_session


def session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = _open()
    return g.db_session


@contextmanager
def transaction(app: Flask | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    with _open(app) as db_session:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise


def refuse() -> None:
    """Mark the request refused: nothing it wrote commits, whatever it answers."""
    g.refused = True


def keep_when_refused(write: Callable[[Session], None]) -> None:
    """Run ``write`` in a transaction of its own if the request ends rolled back.

    For what a refusal must not undo: the audit event saying it was refused, a one-time
    code spent on it. Each ``write`` must be safe to run after everything else was undone.
    """
    g.setdefault("kept_when_refused", []).append(write)


def _finish_request(response):
    db_session = g.pop("db_session", None)
    kept = g.pop("kept_when_refused", [])
    committed = False
    if db_session is not None:
        try:
            if response.status_code < 400 and not g.get("refused"):
                db_session.commit()
                committed = True
            else:
                db_session.rollback()
        finally:
            db_session.close()
    if kept and not committed:
        _write_kept(kept)
    return response


def _write_kept(kept: list[Callable[[Session], None]]) -> None:
    with transaction() as db_session:
        for write in kept:
            write(db_session)


def _teardown(_exc):
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.rollback()
        db_session.close()
    kept = g.pop("kept_when_refused", [])
    if kept:
        _write_kept(kept)


def upgrade(app: Flask | None = None) -> None:
    """Bring the database to the latest schema (idempotent), as its owner.

    Migrations connect with ``MIGRATION_DATABASE_URL`` (the owner; ``DATABASE_URL`` when
    unset). On PostgreSQL the app's own role is then granted what it needs and no more,
    when it is a different role from the owner.
    """
    app = app or current_app
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    owner_url = app.config.get("MIGRATION_DATABASE_URL")
    owner = make_engine(owner_url) if owner_url else engine(app)
    try:
        with owner.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        role = db_roles.app_role(app.config)
        if owner.dialect.name == "postgresql" and role and role != owner.url.username:
            with owner.begin() as connection:
                db_roles.grant_app_role(connection, role)
    finally:
        if owner_url:
            owner.dispose()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or bring it to the latest schema."""
    upgrade()
    click.echo("Database is at the latest schema.")


def init_app(app: Flask) -> None:
    app.extensions["db_engine"] = make_engine(app.config["DATABASE_URL"])
    app.after_request(_finish_request)
    app.teardown_appcontext(_teardown)
    app.cli.add_command(init_db_command)
