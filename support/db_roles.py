"""PostgreSQL privileges of the role the app runs as.

The app must not be able to rewrite its own audit trail: migrations run as the owner of
the schema (``MIGRATION_DATABASE_URL``), the app connects as a role that owns nothing and
may only read and append to the audit tables. The grants are generic over every table in
the schema and are renewed after every upgrade, so tables that later migrations add are
covered without naming them here.
"""
from __future__ import annotations

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import make_url

#: tables the app may read and append to, never change
APPEND_ONLY = frozenset({"audit_event", "audit_checkpoint", "audit_verification"})
#: tables the app reads but only migrations write
MIGRATIONS_ONLY = frozenset({"alembic_version", "audit_conversion", "audit_former_hash"})


def app_role(config: dict) -> str | None:
    """The role to grant: ``DATABASE_APP_ROLE``, else the user of ``DATABASE_URL``."""
    return config.get("DATABASE_APP_ROLE") or make_url(config["DATABASE_URL"]).username


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def grant_app_role(connection: Connection, role: str, schema: str = "public") -> None:
    """Give ``role`` exactly what the app needs on every table and sequence of ``schema``.

    Read-write on ordinary tables, SELECT and INSERT on the audit tables, SELECT on the
    migration bookkeeping, USAGE on sequences. Anything granted before is revoked first,
    so a table that became append-only loses its UPDATE.
    """
    who, where = _quoted(connection, role), _quoted(connection, schema)
    connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}")
    for table in inspect(connection).get_table_names(schema=schema):
        if table in APPEND_ONLY:
            privileges = "SELECT, INSERT"
        elif table in MIGRATIONS_ONLY:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        connection.exec_driver_sql(f"GRANT {privileges} ON {where}.{_quoted(connection, table)} TO {who}")
    connection.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
