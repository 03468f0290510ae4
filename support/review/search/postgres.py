"""PostgreSQL's side of a search: each source's newest matches, in windows of ids newest first,
the sources read at once, ranked by ``ts_rank``."""
from __future__ import annotations

import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Callable

from sqlalchemy import (Boolean, Float, Integer, any_, bindparam, func, literal, literal_column, null, select, true,
                        union_all)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlmodel import Session

from ...models import Case, Evidence, Message
from . import limits
from .words import Terms

#: the newest rows of each source, read first, one by one (for messages, as many cases' worth:
#: ``MESSAGES_PER_CASE``, a case's usual conversation)
FIRST_WINDOW = 500
MESSAGES_PER_CASE = 5
#: a later window of ids this small is read one row at a time too
WALK_ROWS = 32000
#: a window read through the GIN bitmap is sized for this many times the matches
#: still wanted: the bitmap holds every match in the table, and a second window builds it again
GIN_MARGIN = 2
#: reading a row costs about as much as this many entries of a GIN bitmap
GIN_ENTRIES_PER_ROW = 8
#: a window is sized for this many times the matches still wanted, at the density seen so far
WINDOW_MARGIN = 1.25
#: a walk is given room for this many times the ids its matches are expected among: it stops
#: at the last match it wants, so room it does not need costs nothing, and a density
#: misjudged by as much is still read in one statement
WALK_ROOM = 3


#: the words, as PostgreSQL's index holds them (``tsquery``: ``Terms.tsquery``)
_QUERY = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery"))


@contextmanager
def _unprepared(connection):
    """Every statement of a search planned for its own window and words: the driver prepares
    none of them (it prepares a statement run five times, and PostgreSQL may then choose a
    generic plan that knows neither); for the search only, at no cost of a round trip."""
    driver = connection.connection.driver_connection
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        yield connection
    finally:
        driver.prepare_threshold = threshold


class _Source:
    """One searched table on PostgreSQL, with the statements that search it among the cases
    that meet a shape of queue filter, each built once (``_Statements``) and run with its
    window's ids, ``window_low`` < id <= ``window_high``."""

    def __init__(self, name: str, model, case_id, conditions: tuple, *, rows_per_case: int = 1):
        self.name, self.model, self.case_id, self.conditions = name, model, case_id, conditions
        self.rows_per_case = rows_per_case
        self.vector = literal_column(f'"{model.__tablename__}".search_vector')
        matched = self.vector.op("@@")(_QUERY)
        self.windows = {"walk": self._walk(), "gin": self._window(matched),
                        "rest": self._window(matched, bounded=False)}
        found = self._rows(matched, case_id == any_(bindparam("cases", type_=ARRAY(Integer))))
        self.among = select(*self._ranked(found)[:3]).order_by(found.c.id.desc()).limit(bindparam("candidates"))

    def newest(self, position: int) -> tuple:
        """Its newest ``FIRST_WINDOW`` rows, read backwards on the primary key whatever the
        words: a row ``(position, None, None, None, None, lowest id, highest id)`` for the window,
        then one per match ``(position, case_id, item_id, relevance, kept, None, None)``."""
        window = (select(self.model.id.label("id"), self.case_id.label("case_id"), self.vector.label("search_vector"))
                  .order_by(self.model.id.desc()).limit(bindparam(f"first_window_{self.name}"))
                  .cte(f"newest_{self.name}"))
        labels = ("source", "case_id", "item_id", "relevance", "kept", "low", "top")
        nothing = (null().cast(Integer), null().cast(Integer), null().cast(Float), null().cast(Boolean))
        span = (literal(position), *nothing, func.min(window.c.id), func.max(window.c.id))
        matches = (literal(position), *self._ranked(window), null().cast(Integer), null().cast(Integer))
        return (select(*(value.label(label) for value, label in zip(span, labels))),
                select(*(value.label(label) for value, label in zip(matches, labels)))
                .where(window.c.search_vector.op("@@")(_QUERY)))

    def _walk(self):
        """The newest ``window_limit`` matches whose case is kept, among the ids of the window,
        read backwards on the primary key and tested row by row (``IS TRUE``, which no index
        answers): the walk stops at the last match it wants, and only the rows it returns are
        ranked."""
        matched = self.vector.op("@@")(_QUERY).is_(True)
        kept = self.conditions if self.model is Case else (self._kept(self.case_id),)  # a case row is tested itself
        return (select(self.case_id, self.model.id.label("item_id"), func.ts_rank(self.vector, _QUERY, 32))
                .where(*self._window_ids(), matched, *kept)
                .order_by(self.model.id.desc()).limit(bindparam("window_limit")))

    def _window(self, matched, *, bounded: bool = True):
        """The newest ``window_limit`` matches whose case is kept, among the ids of the window,
        through the GIN bitmap of the words ANDed with the BRIN bitmap of the window's ids; a
        window of every id left (``bounded`` False) from the GIN bitmap alone, as the BRIN
        bitmap of a whole table costs more than the rows it spares."""
        found = self._rows(matched, *(self._window_ids() if bounded else ()))
        statement = select(*self._ranked(found)[:3]).where(self._kept(found.c.case_id))
        if not bounded:
            statement = statement.where(found.c.id <= bindparam("window_high"))
        return statement.order_by(found.c.id.desc()).limit(bindparam("window_limit"))

    def _window_ids(self) -> tuple:
        """``window_low`` < id <= ``window_high``."""
        return self.model.id > bindparam("window_low"), self.model.id <= bindparam("window_high")

    def _rows(self, *where):
        """The rows ``where`` picks, in a subquery the planner keeps whole (``OFFSET 0``): it
        fetches them its cheapest way instead of walking the primary key in the order asked."""
        return (select(self.model.id.label("id"), self.case_id.label("case_id"), self.vector.label("search_vector"))
                .where(*where).offset(0).subquery("found"))

    def _ranked(self, found) -> tuple:
        """``case_id, item_id, relevance, kept`` of each row: its case is tested by its primary
        key (a subplan, never a join that reads every open case)."""
        return (found.c.case_id, found.c.id.label("item_id"), func.ts_rank(found.c.search_vector, _QUERY, 32),
                func.coalesce(self._kept(found.c.case_id), False).label("kept"))

    def _kept(self, case_id):
        """Whether the case ``case_id`` meets the queue's filters: a subplan on its primary key."""
        return select(true()).where(Case.id == case_id, *self.conditions).scalar_subquery() \
            if self.conditions else true()


class _Statements:
    """A search's statements for one shape of queue filter (its ``conditions`` the same
    objects for the same shape, values bound at execution): building them cost more than
    running most of them."""

    def __init__(self, conditions: tuple):
        self.sources = (_Source("details", Case, Case.id, conditions),
                        _Source("message", Message, Message.case_id, conditions, rows_per_case=MESSAGES_PER_CASE),
                        _Source("receipt", Evidence, Evidence.case_id, conditions))
        self.cases = select(Case.id).where(*conditions).limit(bindparam("few_limit"))
        self.first = union_all(*(part for position, source in enumerate(self.sources)
                                 for part in source.newest(position)))


_statements = lru_cache(maxsize=256)(_Statements)


def sources(session: Session, terms: Terms, conditions: tuple, values: dict) -> list:
    """Each source's newest matches, in windows of ids (``_newest_first``); when the queue's
    filters leave at most ``FEW_CASES`` cases (the flagged ones), among the texts of those
    cases, which each source's ``case_id`` index finds."""
    statements = _statements(conditions)
    values.update({f"first_window_{source.name}": FIRST_WINDOW * source.rows_per_case for source in statements.sources},
                  tsquery=terms.tsquery(), candidates=limits.CANDIDATES)
    with _unprepared(session.connection()) as connection:
        few = None
        if conditions:
            ids = connection.execute(statements.cases, {**values, "few_limit": limits.FEW_CASES + 1}).scalars().all()
            if not ids:
                return []
            if len(ids) <= limits.FEW_CASES:
                few = sorted(ids)
        if few is not None:
            return [(source.name, connection.execute(source.among, {**values, "cases": few}).all())
                    for source in statements.sources]
        first = connection.execute(statements.first, values).all()
        firsts = [[row for row in first if row[0] == position] for position in range(len(statements.sources))]
        wanting = [position for position, rows in enumerate(firsts) if _wants_more(rows)]
        engine = session.get_bind().engine
        read = partial(_newest_first, values=values)
        # the request reads the messages (the most rows); one connection beside it reads the other
        # sources that want more, in turn
        own = next((position for position in wanting if statements.sources[position].name == "message"),
                   wanting[0] if wanting else None)
        others = [position for position in wanting if position != own]
        beside = _beside(engine, lambda side: {position: read(side, source=statements.sources[position],
                                                              first=firsts[position])
                                               for position in others}) if others else None
        found = {}
        try:
            for position, source in enumerate(statements.sources):
                if beside is None or position not in others:
                    found[position] = read(connection, source=source, first=firsts[position])
        finally:
            if beside is not None:
                beside.exception()  # never leave a read running on a connection of the pool
        if beside is not None:
            found.update(beside.result())
        return [(source.name, found[position]) for position, source in enumerate(statements.sources)]


#: sources read at the same time as the request's own, each on a connection of its
#: own, at most this many at once in a process (a busy process reads them one after another)
SIDE_READS = 2
_side_reads = threading.BoundedSemaphore(SIDE_READS)
_side_readers = ThreadPoolExecutor(max_workers=SIDE_READS, thread_name_prefix="search")


def _beside(engine, read: Callable[[Connection], list]) -> Future | None:
    """``read`` on a connection of its own while the request reads on (the other sources'
    windows: two statements at once on two cores, not one after the other), or None when
    the process's ``SIDE_READS`` are all running: a process then holds at most its threads'
    connections and ``SIDE_READS`` more. A search only reads,
    and each of its statements sees what was committed when it began either way."""
    if not _side_reads.acquire(blocking=False):
        return None

    def on_own_connection() -> list:
        try:
            with engine.connect() as connection, _unprepared(connection):
                return read(connection)
        finally:
            _side_reads.release()

    try:
        return _side_readers.submit(on_own_connection)
    except BaseException:
        _side_reads.release()
        raise


def _opening(first: list) -> tuple[list, list, int, int]:
    """A source's first window (``_Source.newest``): its kept matches newest first (at most
    ``CANDIDATES``), all its matches, and its lowest and highest id (1 and 0 when empty)."""
    span = next(row for row in first if row[1] is None)
    matched = sorted((row for row in first if row[1] is not None), key=lambda row: -row[2])
    kept = [(case_id, item_id, relevance)
            for _, case_id, item_id, relevance, kept, *_ in matched if kept][:limits.CANDIDATES]
    return kept, matched, span[5] or 1, span[6] or 0


def _wants_more(first: list) -> bool:
    """Whether a source's first window left it short of ``CANDIDATES`` kept matches with older rows to read."""
    kept, _, low, _ = _opening(first)
    return len(kept) < limits.CANDIDATES and low > 1


def _window(connection, *, source: _Source, shape: str, values: dict, low: int, high: int, limit: int) -> list:
    """The newest ``limit`` matches of a window, ``low`` < id <= ``high``, read the ``shape`` way."""
    return connection.execute(source.windows[shape], {**values, "window_low": low, "window_high": high,
                                                      "window_limit": limit}).all()


def _newest_first(connection, *, source: _Source, first: list, values: dict) -> list:
    """The newest ``CANDIDATES`` matches of a source, in windows of ids, newest first.

    ``first`` is its first window, its newest rows (``_Source.newest``): a common word is done
    there, and it tells how common the words are before the queue's filters. Each later window
    is sized from the matches per id seen so far and read one of two ways:

    - walked row by row when the ids the matches still wanted are expected among, times
      ``WINDOW_MARGIN``, are at most ``WALK_ROWS`` or fewer than the GIN bitmap of the words
      would cost (it holds every match in the table; reading a row costs about
      ``GIN_ENTRIES_PER_ROW`` of its entries); the walk is given ``WALK_ROOM`` times that room
      and stops at its last match, so a density seen in a few matches, half or a third of the
      true one, still takes one statement;
    - otherwise (the words are rare) through the GIN bitmap ANDed with the BRIN bitmap of the
      window's ids (migration ``search_2``), so only the pages holding a match inside the
      window are read; sized for ``GIN_MARGIN`` times the matches still wanted, as a second
      such window builds the bitmap again; a window of every id left uses the GIN bitmap alone,
      and so do words found nowhere in the first window (few in the table: the BRIN bitmap of
      a wide window costs more than the rows it spares).
    """
    rows, matched, low, top = _opening(first)
    high, seen = low - 1, top - low + 1
    walked = max(WALK_ROWS, (len(matched) + 1) / max(1, seen) * top / GIN_ENTRIES_PER_ROW)
    while high > 0 and len(rows) < limits.CANDIDATES:
        wanted = limits.CANDIDATES - len(rows)
        expected = math.ceil(wanted * WINDOW_MARGIN * seen / (len(rows) + 1))
        if not matched:  # rarer than one in its first window: the GIN bitmap alone holds few
            shape, low = "rest", 0
        elif expected <= walked:
            shape, low = "walk", max(0, high - int(min(walked, WALK_ROOM * expected)))
        else:
            low = max(0, high - math.ceil(wanted * GIN_MARGIN * seen / (len(rows) + 1)))
            shape = "gin" if low else "rest"
        rows += _window(connection, source=source, shape=shape, values=values, low=low, high=high, limit=wanted)
        seen, high = seen + high - low, low
    return rows
