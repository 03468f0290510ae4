"""Several short reads in one statement, so a page pays one round trip for them.

On a busy server each statement is a round trip, and each round trip is a moment the
request waits for the database process to be scheduled: a page's short side lists (the
counts per status, the team's names, an agent's saved views) cost more in waiting than in
work. ``ReadTogether`` sends them as one SELECT whose columns are each list as a JSON
array of objects (``json_agg`` on PostgreSQL, ``json_group_array`` on SQLite). It composes
that SELECT once per database kind and is then only executed with the request's values
(``bindparam``), so a page spends nothing on building it or on working out its cache key.
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


class ReadTogether:
    """Named SELECTs (short lists only) read as one statement; their ``bindparam`` values are
    given on each read."""

    def __init__(self, **statements: Select) -> None:
        self.statements = statements
        self._composed: dict[str, Select] = {}

    def _statement(self, dialect: str) -> Select:
        if dialect not in self._composed:
            postgresql = dialect == "postgresql"
            self._composed[dialect] = select(*(_as_json_array(statement, postgresql).label(name)
                                               for name, statement in self.statements.items()))
        return self._composed[dialect]

    def __call__(self, session: Session, **values) -> dict[str, list[dict]]:
        """Each list's rows as dicts of JSON values (numbers, text, booleans, which SQLite
        gives as 0 and 1), in no promised order."""
        statement = self._statement(session.get_bind().dialect.name)
        found = session.execute(statement, values).one()._mapping
        return {name: json.loads(value) if isinstance(value, str) else value for name, value in found.items()}
