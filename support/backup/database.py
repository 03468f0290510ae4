"""A consistent copy of the database while the desk runs, and putting one back.

SQLite: the online backup API, in ONE step. The desk runs in WAL mode, where a reader
never blocks a writer: the step reads one snapshot while writers keep appending to the
WAL (only the WAL checkpointer waits for the copy to finish, so the ``-wal`` file grows
meanwhile). Copying in several steps would not help writers and would hurt the copy: the
backup restarts from the first page whenever another connection commits between steps,
which on a busy desk may be forever.

PostgreSQL: ``pg_dump --format=custom`` (one snapshot, ACCESS SHARE locks that block only
schema changes) and ``pg_restore --no-owner --no-acl --single-transaction`` as the schema
owner; the app's role is granted its rights again by the migration step that follows. The
connection reaches the client tools through libpq's environment (host, port, user,
database) and a private, temporary password file: never a password in process arguments.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from .. import models  # noqa: F401  (registers the desk's tables)

#: tables that say nothing about whether a desk holds data (bookkeeping and counters)
BOOKKEEPING = frozenset({"alembic_version", "case_status_count"})
#: libpq settings a URL may carry in its query string, and their environment variable
LIBPQ_QUERY = {"host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
               "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
               "target_session_attrs": "PGTARGETSESSIONATTRS", "application_name": "PGAPPNAME"}


class DatabaseCopyError(RuntimeError):
    """The database cannot be copied or put back; the message says what to do."""


def kind(url: str) -> str:
    """``sqlite`` or ``postgresql``; any other database is refused."""
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseCopyError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def file_name(url: str) -> str:
    return "database.sqlite" if kind(url) == "sqlite" else "database.pgdump"


# -- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DatabaseCopyError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_dump(url: str, target: Path) -> None:
    source = sqlite3.connect(_sqlite_path(url), timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=-1)  # one step: one snapshot, writers go on (see the module's docstring)
        problem = copy.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if problem != "ok":
        raise DatabaseCopyError(f"the copy of the SQLite database fails its check: {problem}")


def _sqlite_load(source_file: Path, url: str) -> None:
    path = _sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_file)
    target = sqlite3.connect(path, timeout=60)
    try:
        source.backup(target)  # replaces every page of the target, in its own transaction
    finally:
        target.close()
        source.close()


# -- PostgreSQL -----------------------------------------------------------------------------


def _client(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise DatabaseCopyError(
            f"{tool} is not on PATH: install the PostgreSQL client of the server's major version "
            f"(Debian: postgresql-client-N) or put its bin folder (/usr/lib/postgresql/N/bin) on PATH")
    return found


def client_major(tool: str) -> int:
    """The major version of ``pg_dump`` or ``pg_restore`` on PATH."""
    output = subprocess.run([_client(tool), "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", output) or re.search(r"(\d+)\.\d+", output)
    if found is None:
        raise DatabaseCopyError(f"cannot read the version of {tool}: {output.strip()!r}")
    return int(found.group(1))


def refuse_older_client(tool: str, client: int, server: int) -> None:
    """A client older than the server (or than the dump) cannot read it: say which to install."""
    if client < server:
        raise DatabaseCopyError(f"{tool} {client} cannot handle PostgreSQL {server}: install "
                                f"postgresql-client-{server} and put it first on PATH")


def _server_major(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SHOW server_version_num").scalar()) // 10000
    finally:
        engine.dispose()


@contextmanager
def libpq_environment(url: str) -> Iterator[dict[str, str]]:
    """The environment that points libpq's tools at ``url``: PGHOST, PGPORT, PGUSER,
    PGDATABASE and, when the URL has a password, PGPASSFILE naming a file only we can read,
    deleted afterwards. Neither the password nor the URL appears in the arguments."""
    parsed = make_url(url)
    environment = dict(os.environ)
    environment.pop("PGPASSWORD", None)
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                        ("PGDATABASE", parsed.database)):
        if value is not None:
            environment[name] = str(value)
    for key, name in LIBPQ_QUERY.items():
        value = parsed.query.get(key)
        if value is not None:
            environment[name] = value if isinstance(value, str) else value[0]
    with tempfile.TemporaryDirectory(prefix="rd-pg-") as private:  # mode 0700
        if parsed.password is not None:
            passfile = Path(private) / "pgpass"
            escaped = str(parsed.password).replace("\\", "\\\\").replace(":", "\\:")
            descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(f"*:*:*:*:{escaped}\n")
            environment["PGPASSFILE"] = str(passfile)
        yield environment


def _run(command: list[str], url: str) -> None:
    with libpq_environment(url) as environment:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    if finished.returncode != 0:
        raise DatabaseCopyError(f"{Path(command[0]).name} failed: {finished.stderr.strip()[-2000:]}")


def _pg_dump(url: str, target: Path) -> int:
    """Dump with the client on PATH; returns its major version (a restore needs one as new)."""
    major = client_major("pg_dump")
    refuse_older_client("pg_dump", major, _server_major(url))
    _run([_client("pg_dump"), "--format=custom", "--no-password", f"--file={target}"], url)
    return major


def _pg_load(source_file: Path, url: str, dump_major: int | None) -> None:
    major = client_major("pg_restore")
    refuse_older_client("pg_restore", major, max(dump_major or 0, _server_major(url)))
    database = make_url(url).database.replace("\\", "\\\\").replace("'", "\\'")
    _run([_client("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
          "--no-password", f"--dbname=dbname='{database}'", str(source_file)], url)


#: drops what the public schema holds (no "%" here: the driver would read it as a parameter)
_WIPE_SQL = """
DO $$ DECLARE item record; BEGIN
  FOR item IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
  LOOP
    EXECUTE 'DROP ' || CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
      WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END
      || ' IF EXISTS ' || item.name::text || ' CASCADE';
  END LOOP;
  FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'public'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE 'DROP ROUTINE IF EXISTS ' || item.name::text || ' CASCADE';
  END LOOP;
  FOR item IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || item.name::text || ' CASCADE';
  END LOOP;
END $$
"""


# -- both -----------------------------------------------------------------------------------


@dataclass
class Dumped:
    """What ``dump`` wrote: the database's kind and, on PostgreSQL, the pg_dump that wrote it."""

    kind: str
    client_major: int | None = None


def dump(url: str, target: Path) -> Dumped:
    """A consistent copy of the database at ``url`` in the file ``target``."""
    if kind(url) == "sqlite":
        _sqlite_dump(url, target)
        return Dumped("sqlite")
    return Dumped("postgresql", _pg_dump(url, target))


def holds_data(url: str) -> list[str]:
    """The desk's tables (the models'; search indexes and bookkeeping aside) that hold rows
    in the database at ``url``; empty when it is missing, has no tables, or was only migrated."""
    if kind(url) == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            preparer = connection.dialect.identifier_preparer
            tables = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables) - BOOKKEEPING
            return [table for table in sorted(tables)
                    if connection.execute(text(f"SELECT 1 FROM {preparer.quote(table)} LIMIT 1")).first()]
    finally:
        engine.dispose()


def load(source_file: Path, url: str, *, dump_major: int | None = None) -> None:
    """Replace the database at ``url`` with the copy in ``source_file`` (made by ``dump``).

    The caller has decided it may (``holds_data``). On PostgreSQL every table, view,
    sequence, function and type of the ``public`` schema is dropped first, so a desk that
    was only migrated, or one given up with ``--force``, takes the copy whole.
    """
    if kind(url) == "sqlite":
        _sqlite_load(source_file, url)
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(_WIPE_SQL)
    finally:
        engine.dispose()
    _pg_load(source_file, url, dump_major)
