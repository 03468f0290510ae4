"""Engine, one session (and one transaction) per request, migrations.

Services only ``flush()``; the request commits once in ``after_request`` when the
response is not an error and nothing was refused, and rolls back otherwise. That is how a
privileged change and its audit event live or die together. A ``Refused`` raised during
the request marks it refused (``refuse``) whatever the response, so a view that redirects
after a refusal commits nothing. What must outlive a refusal (its audit event, a spent
one-time code) is kept with ``keep_when_refused`` and written in a short transaction of
its own after the rollback. CLI commands use ``transaction()``.

SQLite has one writer. A request that writes (any method but GET, HEAD and OPTIONS, or a
view marked ``@writes``) begins IMMEDIATE at its first query, so writers queue instead of
failing; a request that only reads begins DEFERRED and never takes the write lock, and
its session refuses to flush a change (a GET view that writes must say so). Slow work
(decoding uploads, rendering reports) happens before the write begins or after the
reading session is released (``release``).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g, has_request_context, request
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from . import db_roles

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


#: the execution option of an engine whose transactions only read (see ``reader``)
READS_ONLY = "reads_only"
#: methods whose requests only read, unless their view is marked ``@writes``
READING_METHODS = {"GET", "HEAD", "OPTIONS"}


def make_engine(url: str) -> Engine:
    """An engine; on SQLite a transaction begins IMMEDIATE so writers queue, never fail,
    except on the ``reader`` engine, whose transactions begin DEFERRED (no write lock)."""
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
            cursor.execute("PRAGMA secure_delete=ON")  # erased personal data is overwritten, not left in free pages
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            reads_only = connection.get_execution_options().get(READS_ONLY)
            connection.exec_driver_sql("BEGIN DEFERRED" if reads_only else "BEGIN IMMEDIATE")

        return engine
    # JIT off: the desk runs short statements, and a page's statement whose cost estimate passes
    # jit_above_cost spent 20-40 ms compiling what ran in 5 (the Replies badge, a search window)
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["db_engine"]


def _open(app: Flask | None = None, *, reads_only: bool = False) -> Session:
    """A new session, with what other modules watch on every session (``db_session_hooks``);
    on the ``reader`` engine when it only reads."""
    app = app or current_app
    bind = reader(engine(app)) if reads_only else engine(app)
    db_session = Session(bind, expire_on_commit=False)
    for hook in app.extensions.get("db_session_hooks", ()):
        hook(db_session)
    return db_session


def reader(bind: Engine | None = None) -> Engine:
    """``bind`` (the app's engine by default) for work that only reads: on SQLite its
    transactions never take the write lock."""
    return (bind or engine()).execution_options(**{READS_ONLY: True})


def writes(view: Callable) -> Callable:
    """Mark a GET view that writes (an audited download): its session begins IMMEDIATE.

    Put it anywhere among the view's decorators (they copy the mark with ``functools.wraps``).
    """
    view.writes_database = True
    return view


def _reads_only() -> bool:
    if not has_request_context() or request.method not in READING_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, "writes_database", False)


def session() -> Session:
    """The request's session, opened on first use; a reading one for a request that only reads."""
    if "db_session" not in g:
        reads_only = _reads_only()
        g.db_session = _open(reads_only=reads_only)
        if reads_only:
            event.listen(g.db_session, "before_flush", _refuse_writes)
    return g.db_session


def _refuse_writes(db_session: Session, _context, _instances) -> None:
    if db_session.new or db_session.deleted or any(db_session.is_modified(row) for row in db_session.dirty):
        raise RuntimeError(f"{request.method} {request.endpoint} writes to the database: mark its view @db.writes")


def release() -> None:
    """End the request's session now (rolled back: call only when nothing was written), so
    slow work that follows holds no connection or lock; a later ``session()`` opens a new one."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


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


def roll_back() -> None:
    """Roll the request's session back now (an unexpected error): nothing it wrote commits, and
    the error page can still read what it shows (the signed-in agent, their language)."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.rollback()


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


def upgrade(app: Flask | None = None, revision: str = "heads") -> None:
    """Bring the database to the latest schema (idempotent), as its owner.

    Migrations connect with ``MIGRATION_DATABASE_URL`` (the owner; ``DATABASE_URL`` when
    unset). On PostgreSQL the app's own role is then granted what it needs and no more,
    when it is a different role from the owner. Migrations that rewrite the audit trail
    read the app's keys from its configuration (``app_config``, ``instance_path``).
    """
    app = app or current_app
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes.update(app_config=app.config, instance_path=app.instance_path)
    owner_url = app.config.get("MIGRATION_DATABASE_URL")
    owner = make_engine(owner_url) if owner_url else engine(app)
    try:
        with owner.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
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
