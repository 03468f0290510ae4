"""``init-db`` migrates as the owner and grants the app's role what it needs, on every table."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from support import db, db_roles


def test_app_role_is_named_by_setting_or_by_the_url():
    url = "postgresql+psycopg://rd_app@127.0.0.1/desk"
    assert db_roles.app_role({"DATABASE_URL": url}) == "rd_app"
    assert db_roles.app_role({"DATABASE_URL": url, "DATABASE_APP_ROLE": "desk_web"}) == "desk_web"


def test_init_db_grants_tables_that_later_migrations_add(app, runner, owner_engine):
    if owner_engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with owner_engine.begin() as connection:
        connection.execute(text("CREATE TABLE later_feature (id serial PRIMARY KEY, note text)"))
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with db.engine(app).begin() as connection:
        connection.execute(text("INSERT INTO later_feature (note) VALUES ('kept')"))
        connection.execute(text("UPDATE later_feature SET note = 'changed'"))
        owner = connection.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'later_feature'")).scalar()
    assert owner != db_roles.app_role(app.config)
