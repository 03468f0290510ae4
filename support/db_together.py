"""Several short reads in one statement, so a page pays one round trip for them.

On a busy server each statement is a round trip, and each round trip is a moment the
request waits for the database process to be scheduled: a page's short side lists (the
counts per status, the team's names, an agent's saved views) cost more in waiting than in
work. ``read_together`` sends them as one SELECT whose columns are each list as a JSON
array of objects (``json_agg`` on PostgreSQL, ``json_group_array`` on SQLite).
"""
from __future__ import annotations

import json

from sqlalchemy import Select, func, literal_column, select
from sqlmodel import Session


def _as_json_array(statement: Select, postgresql: bool):
    rows = statement.subquery()
    fields = [part for column in rows.c for part in (literal_column(f"'{column.key}'"), column)]
    if postgresql:
        array = func.json_agg(func.json_build_object(*fields))
    else:
        array = func.json_group_array(func.json_object(*fields))
    return select(func.coalesce(array, literal_column("'[]'"))).select_from(rows).scalar_subquery()


def read_together(session: Session, **statements: Select) -> dict[str, list[dict]]:
    """Each named SELECT's rows as dicts of JSON values (numbers, text, booleans, which
    SQLite gives as 0 and 1), in no promised order; for short lists only."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    query = select(*(_as_json_array(statement, postgresql).label(name) for name, statement in statements.items()))
    found = session.execute(query).one()._mapping
    return {name: json.loads(value) if isinstance(value, str) else value for name, value in found.items()}
