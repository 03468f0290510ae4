"""Alembic environment: runs on the connection that ``support.db.upgrade`` hands over,
or on MIGRATION_DATABASE_URL (else DATABASE_URL) when called as ``alembic -c migrations/alembic.ini``."""
import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import support.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(os.environ.get("MIGRATION_DATABASE_URL") or os.environ["DATABASE_URL"]).connect() as fresh:
        run(fresh)
