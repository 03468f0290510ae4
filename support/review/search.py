"""Full-text search for the queue: claimant details, messages and receipt text, ranked.

The database keeps the indexes (migration ``search_1``): PostgreSQL a generated
``search_vector`` with a GIN index on ``case``, ``message`` and ``evidence``, SQLite FTS5
tables kept by triggers. A blanked or deleted text leaves the index with its row.

What the agent types is never query syntax. It is cut into words the way the index cuts
text (runs of letters and digits, lower case, Latin accents folded) and each word is
quoted, so ``"``, ``*``, ``:``, ``NEAR``, ``OR``, ``body:`` or ``!`` are plain characters or
plain words on both databases. Every word must occur in the same text (the claimant's
details, one message, or one receipt); the last word also matches longer words (``Ivano``
finds ``Ivanova``) unless the input ends with a character that is not part of a word.

Ranking: per source, the newest ``CANDIDATES`` matching texts among the cases that meet the
queue's filters (read newest first, so the search stops after them) are ranked, 0…1 (by
PostgreSQL's ``ts_rank``; on SQLite by BM25 over the candidates' own texts); a case scores
its best text per source, weighted (its own details above receipts above messages: a match
counts half its weight, how well it matches the other half, so a word common to every email
still ranks a case's own details above a passing mention), and cases are ordered by score,
then newest first. For a word found everywhere the page says that only the newest matches
were ranked. Pages are offsets into that bounded ranking. SQLite's FTS5 walks its index in
rowid order; PostgreSQL reads windows of ids (``_newest_first``), the three sources at once
(``_beside``): see ``bench/README.md`` for what each costs.
"""
from __future__ import annotations

import math
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import islice
from typing import Callable

from markupsafe import Markup, escape
from sqlalchemy import (Boolean, Float, Integer, any_, bindparam, column, func, literal, literal_column, null, select,
                        table, text, true, union_all)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlmodel import Session

from ..models import Case, Evidence, Message, MessageVisibility

#: Latin letters with accents and the letters they fold to (the search_1 migration's list)
FOLD_FROM = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżž"
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzz"
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)
#: a word, as the index cuts text: letters and digits (never ``_``)
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
MAX_WORD_CHARS = 64
#: a shorter last word is matched whole: ``a*`` would read most of the index
PREFIX_MIN = 3
#: matching texts ranked per source (newest first)
CANDIDATES = 200
#: how much a match in each source counts towards a case's score
WEIGHTS = {"details": 3.0, "receipt": 2.0, "message": 1.0}
#: words of context shown around the first matching word
EXCERPT_WORDS = 14


_ACCENTED = re.compile(f"[{FOLD_FROM}]")


def fold(words: str) -> str:
    """Lower case, Latin accents folded (translating a text without them would cost ten times more)."""
    lowered = words.lower()
    return lowered.translate(_FOLD) if _ACCENTED.search(lowered) else lowered


@dataclass(frozen=True)
class Terms:
    """The words to find, each one quoted; ``prefix``: the last also matches longer words."""

    words: tuple[str, ...]
    prefix: bool = False

    @classmethod
    def parse(cls, typed: str) -> "Terms":
        found = [word[:MAX_WORD_CHARS] for word in WORD.findall(fold(typed))]
        words = tuple(found[:MAX_WORDS])
        prefix = (bool(words) and len(found) <= MAX_WORDS and len(words[-1]) >= PREFIX_MIN
                  and bool(WORD.fullmatch(typed[-1:])))
        return cls(words, prefix)

    def __bool__(self) -> bool:
        return bool(self.words)

    def fts5(self) -> str:
        """An FTS5 query: quoted words, all of them (a word has no ``"`` to escape)."""
        return " ".join(f'"{word}"' for word in self.words) + ("*" if self.prefix else "")

    def tsquery(self) -> str:
        """A ``to_tsquery`` text: quoted lexemes joined by ``&`` (a word has no ``'`` to escape)."""
        quoted = [f"'{word}'" for word in self.words]
        if self.prefix:
            quoted[-1] += ":*"
        return " & ".join(quoted)

    def matches(self, word: str) -> bool:
        """Whether a word of a text is one of these (for the excerpt's highlights)."""
        folded = fold(word)
        return folded in self.words or (self.prefix and folded.startswith(self.words[-1]))

    def found_in(self, written: str) -> bool:
        """Whether a text holds every word, as the index would find it (SQLite: the texts of a
        filter's few cases are read and tested here, not asked of FTS5 row by row)."""
        words = set(WORD.findall(fold(written)))
        exact = self.words[:-1] if self.prefix else self.words
        return all(word in words for word in exact) and (
            not self.prefix or any(word.startswith(self.words[-1]) for word in words))


@dataclass
class Found:
    """Where one case matched: its own details, its best message, its best receipt."""

    score: float = 0.0
    details: bool = False
    message_id: int | None = None
    evidence_id: int | None = None


@dataclass
class Ranking:
    case_ids: list[int]  # best first
    found: dict[int, Found]
    #: a source had more matches than were ranked
    capped: bool


@dataclass
class Excerpt:
    #: "details", "message", "note" (an internal note) or "receipt"
    source: str
    text: Markup | None = None


def rank(session: Session, terms: Terms, conditions, values: dict | None = None) -> Ranking:
    """The cases whose details, messages or receipts hold every word, best first, among the
    cases that meet the queue's ``conditions`` (their bound parameters' ``values`` given)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    found: dict[int, Found] = {}
    capped = False
    sources = _postgres_sources if postgres else _sqlite_sources
    for source, rows in sources(session, terms, tuple(conditions), dict(values or {})):
        capped |= len(rows) == CANDIDATES
        best: dict[int, tuple[float, int]] = {}
        for case_id, item_id, relevance in rows:
            relevance = float(relevance or 0.0)
            if case_id not in best or relevance > best[case_id][0]:
                best[case_id] = (relevance, item_id)
        for case_id, (relevance, item_id) in best.items():
            entry = found.setdefault(case_id, Found())
            entry.score += WEIGHTS[source] * (1.0 + relevance) / 2  # where it matched first, how well second
            if source == "details":
                entry.details = True
            elif source == "message":
                entry.message_id = item_id
            else:
                entry.evidence_id = item_id
    ordered = sorted(found, key=lambda case_id: (-round(found[case_id].score, 9), -case_id))
    return Ranking(ordered, found, capped)


#: SQLite: the claimant's details, each column's weight in the relevance (the name counts most)
SQLITE_DETAILS = {Case.number: 1.0, Case.claimant_name: 4.0, Case.contact_email: 2.0, Case.imei1: 1.0, Case.imei2: 1.0}
#: BM25's term-frequency saturation and length normalisation, as FTS5's ``bm25()`` has them
BM25_K1 = 1.2
BM25_B = 0.75


def _sqlite_sources(session: Session, terms: Terms, conditions: tuple, values: dict):
    """FTS5 walks each index newest first (``ORDER BY rowid DESC`` is the index's own order) and
    stops after ``CANDIDATES`` matches among the filtered cases. No ``bm25()``: it counts every
    row holding each word (its IDF) on every query; the candidates' texts are ranked here.

    When the queue's filters leave at most ``FEW_CASES`` cases (the flagged ones), the walk
    could read every match of a common word before ``CANDIDATES`` pass them: those cases'
    texts are read instead (each source's ``case_id`` index) and tested with ``Terms.found_in``.
    """
    few = None
    if conditions:
        few = session.connection().execute(
            select(Case.id).where(*conditions).limit(FEW_CASES + 1), values).scalars().all()
        if not few:
            return
        if len(few) > FEW_CASES:
            few = None
    match = bindparam("match", terms.fts5())
    for source, index, model, case_id, columns in (
            ("details", "case_search", Case, Case.id, SQLITE_DETAILS),
            ("message", "message_search", Message, Message.case_id, {Message.body: 1.0}),
            ("receipt", "evidence_search", Evidence, Evidence.case_id, {Evidence.read_text: 1.0})):
        if few is not None:
            texts = session.connection().execute(select(case_id, model.id.label("item_id"), *columns)
                                                 .where(case_id.in_(few)).order_by(model.id.desc()))
            rows = list(islice((row for row in texts if terms.found_in(" ".join(filter(None, row[2:])))), CANDIDATES))
        else:
            fts = table(index, column("rowid"))
            query = (select(case_id, model.id.label("item_id"), *columns)
                     .select_from(fts).join(model, model.id == fts.c.rowid))
            if model is not Case:
                query = query.join(Case, Case.id == case_id)
            query = (query.where(text(f"{index} MATCH :match").bindparams(match), *conditions)
                     .order_by(fts.c.rowid.desc()).limit(CANDIDATES))
            rows = session.connection().execute(query, values).all()
        yield source, _relevance(terms, rows, tuple(columns.values()))


def _relevance(terms: Terms, rows: list, weights: tuple[float, ...]) -> list[tuple[int, int, float]]:
    """``(case_id, item_id, relevance 0…1)`` for rows of ``(case_id, item_id, *texts)``: BM25 over
    each text, without the IDF (every candidate holds every word, so it would only weigh the
    words against each other); a text's length in characters against the candidates' average
    (only words found are counted: a column holding none of them is never cut into words)."""
    texts = [[fold(written or "") for written in row[2:]] for row in rows]
    averages = [max(1.0, sum(len(found[at]) for found in texts) / max(1, len(texts))) for at in range(len(weights))]
    last = terms.words[-1]
    ranked = []
    for row, found in zip(rows, texts):
        value = 0.0
        for written, weight, average in zip(found, weights, averages):
            if not any(term in written for term in terms.words):
                continue
            words = WORD.findall(written)
            frequencies = [words.count(term) for term in terms.words]
            if terms.prefix:
                frequencies[-1] = sum(1 for word in words if word.startswith(last))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * len(written) / average)
            value += weight * sum(tf * (BM25_K1 + 1) / (tf + norm) for tf in frequencies)
        ranked.append((row[0], row[1], value / (1.0 + value)))
    return ranked


#: PostgreSQL: the newest rows of each source, read first, one by one (for messages, as many
#: cases' worth: ``MESSAGES_PER_CASE``, a case's usual conversation)
FIRST_WINDOW = 500
MESSAGES_PER_CASE = 5
#: PostgreSQL: a later window of ids this small is read one row at a time too
WALK_ROWS = 32000
#: PostgreSQL: a window read through the GIN bitmap is sized for this many times the matches
#: still wanted: the bitmap holds every match in the table, and a second window builds it again
GIN_MARGIN = 2
#: PostgreSQL: a walked window holds at most this many rows, or as many as were read before it
WALK_STEP = 8000
#: PostgreSQL: reading a row costs about as much as this many entries of a GIN bitmap
GIN_ENTRIES_PER_ROW = 8
#: PostgreSQL: a window is sized for this many times the matches still wanted, at the density seen so far
WINDOW_MARGIN = 1.25
#: a queue filter that leaves at most this many cases is searched through their ids, not newest first
FEW_CASES = 2000


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
        self.windows = {"walk": self._window(matched.is_(True)), "gin": self._window(matched),
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

    def _window(self, matched, *, bounded: bool = True):
        """The newest ``window_limit`` matches whose case is kept, among the ids of the window:
        walked row by row (``IS TRUE``, which no index answers), or through the GIN bitmap of the
        words, ANDed with the BRIN bitmap of the window's ids; a window of every id left
        (``bounded`` False) from the GIN bitmap alone, as the BRIN bitmap of a whole table costs
        more than the rows it spares."""
        ids = [self.model.id > bindparam("window_low"), self.model.id <= bindparam("window_high")] if bounded else []
        found = self._rows(matched, *ids)
        statement = select(*self._ranked(found)[:3]).where(self._kept(found))
        if not bounded:
            statement = statement.where(found.c.id <= bindparam("window_high"))
        return statement.order_by(found.c.id.desc()).limit(bindparam("window_limit"))

    def _rows(self, *where):
        """The rows ``where`` picks, in a subquery the planner keeps whole (``OFFSET 0``): it
        fetches them its cheapest way instead of walking the primary key in the order asked."""
        return (select(self.model.id.label("id"), self.case_id.label("case_id"), self.vector.label("search_vector"))
                .where(*where).offset(0).subquery("found"))

    def _ranked(self, found) -> tuple:
        """``case_id, item_id, relevance, kept`` of each row: its case is tested by its primary
        key (a subplan, never a join that reads every open case)."""
        return (found.c.case_id, found.c.id.label("item_id"), func.ts_rank(found.c.search_vector, _QUERY, 32),
                func.coalesce(self._kept(found), False).label("kept"))

    def _kept(self, found):
        return select(true()).where(Case.id == found.c.case_id, *self.conditions).scalar_subquery() \
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
        self.first = union_all(*(part for position, source in enumerate(self.sources) for part in source.newest(position)))


_statements = lru_cache(maxsize=256)(_Statements)


def _postgres_sources(session: Session, terms: Terms, conditions: tuple, values: dict) -> list:
    """Each source's newest matches, in windows of ids (``_newest_first``); when the queue's
    filters leave at most ``FEW_CASES`` cases (the flagged ones), among the texts of those
    cases, which each source's ``case_id`` index finds."""
    statements = _statements(conditions)
    values.update({f"first_window_{source.name}": FIRST_WINDOW * source.rows_per_case for source in statements.sources},
                  tsquery=terms.tsquery(), candidates=CANDIDATES)
    with _unprepared(session.connection()) as connection:
        few = None
        if conditions:
            ids = connection.execute(statements.cases, {**values, "few_limit": FEW_CASES + 1}).scalars().all()
            if not ids:
                return []
            if len(ids) <= FEW_CASES:
                few = sorted(ids)
        if few is not None:
            return [(source.name, connection.execute(source.among, {**values, "cases": few}).all())
                    for source in statements.sources]
        first = connection.execute(statements.first, values).all()
        firsts = [[row for row in first if row[0] == position] for position in range(len(statements.sources))]
        wanting = [position for position, rows in enumerate(firsts) if _wants_more(rows)]
        engine = session.get_bind().engine
        read = partial(_newest_first, engine=engine, values=values)
        # the request reads the messages (the most rows); one connection beside it reads the other
        # sources that want more, in turn, and leaves the process's other one to a walk reading ahead
        own = next((position for position in wanting if statements.sources[position].name == "message"),
                   wanting[0] if wanting else None)
        others = [position for position in wanting if position != own]
        beside = _beside(engine, lambda side: {position: read(side, source=statements.sources[position],
                                                              first=firsts[position]) for position in others}) \
            if others else None
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


#: PostgreSQL: sources read at the same time as the request's own, each on a connection of its
#: own, at most this many at once in a process (a busy process reads them one after another)
SIDE_READS = 2
_side_reads = threading.BoundedSemaphore(SIDE_READS)
_side_readers = ThreadPoolExecutor(max_workers=SIDE_READS, thread_name_prefix="search")


def _beside(engine, read: Callable[[Connection], list]) -> Future | None:
    """``read`` on a connection of its own while the request reads on (another source's
    windows, or the next window of the same walk: two statements at once on two cores, not one
    after the other), or None when the process's ``SIDE_READS`` are all running: a process
    then holds at most its threads' connections and ``SIDE_READS`` more. A search only reads,
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


def _wants_more(first: list) -> bool:
    """Whether a source's first window left it short of ``CANDIDATES`` kept matches with older rows to read."""
    span = next(row for row in first if row[1] is None)
    kept = sum(1 for row in first if row[1] is not None and row[4])
    return kept < CANDIDATES and (span[5] or 1) > 1


def _window(connection, *, source: _Source, shape: str, values: dict, low: int, high: int, limit: int) -> list:
    """The newest ``limit`` matches of a window, ``low`` < id <= ``high``, read the ``shape`` way."""
    return connection.execute(source.windows[shape], {**values, "window_low": low, "window_high": high,
                                                      "window_limit": limit}).all()


def _newest_first(connection, *, engine, source: _Source, first: list, values: dict) -> list:
    """The newest ``CANDIDATES`` matches of a source, in windows of ids, newest first.

    ``first`` is its first window, its newest rows (``_Source.newest``): a common word is done
    there, and it tells how common the words are before the queue's filters. Each later window
    is sized from the matches per id seen so far and read one of two ways:

    - walked row by row, for ``WINDOW_MARGIN`` times the matches still wanted, when that is at
      most ``WALK_ROWS`` rows or fewer than the GIN bitmap of the words would cost (it holds
      every match in the table; reading a row costs about ``GIN_ENTRIES_PER_ROW`` of its
      entries), at most ``WALK_STEP`` rows or as many as were read before, then sized again;
    - otherwise (the words are rare) through the GIN bitmap ANDed with the BRIN bitmap of the
      window's ids (migration ``search_2``), so only the pages holding a match inside the
      window are read; sized for ``GIN_MARGIN`` times the matches still wanted, as a second
      such window builds the bitmap again; a window of every id left uses the GIN bitmap alone.
    """
    span = next(row for row in first if row[1] is None)
    low, top = span[5] or 1, span[6] or 0
    matched = sorted((row for row in first if row[1] is not None), key=lambda row: -row[2])
    rows = [(case_id, item_id, relevance) for _, case_id, item_id, relevance, kept, *_ in matched if kept][:CANDIDATES]
    high, seen = low - 1, top - low + 1
    walked = max(WALK_ROWS, (len(matched) + 1) / max(1, seen) * top / GIN_ENTRIES_PER_ROW)
    while high > 0 and len(rows) < CANDIDATES:
        size = math.ceil((CANDIDATES - len(rows)) * WINDOW_MARGIN * seen / (len(rows) + 1))
        low, ahead = max(0, high - size), None
        if high - low <= walked:  # a density seen in a few matches may be half or twice the true one
            step = max(WALK_STEP, seen)
            if high - low > step:  # the next step is wanted too: walk it at the same time
                older, low = max(low, high - 2 * step), high - step
                ahead = _beside(engine, partial(_window, source=source, shape="walk", values=values, low=older,
                                                high=low, limit=CANDIDATES - len(rows)))
        else:  # a second GIN window would build the bitmap again: err on the wide side
            low = max(0, high - math.ceil((CANDIDATES - len(rows)) * GIN_MARGIN * seen / max(1, len(rows))))
        shape = "walk" if high - low <= walked else "gin" if low else "rest"
        rows += _window(connection, source=source, shape=shape, values=values, low=low, high=high,
                        limit=CANDIDATES - len(rows))
        seen, high = seen + high - low, low
        if ahead is not None:
            older_rows = ahead.result()  # waited for even when not needed: no read left running
            if len(rows) < CANDIDATES:
                rows += older_rows[:CANDIDATES - len(rows)]
                seen, high = seen + high - older, older
    return rows


#: the texts excerpts are cut from, by id
_MESSAGES = select(Message.id, Message.body, Message.visibility).where(Message.id.in_(bindparam("ids", expanding=True)))
_RECEIPTS = select(Evidence.id, Evidence.read_text).where(Evidence.id.in_(bindparam("ids", expanding=True)))


def excerpts(session: Session, terms: Terms, found: dict[int, Found]) -> dict[int, list[Excerpt]]:
    """Per case, where it matched, with the words around the first match highlighted."""
    message_ids = [entry.message_id for entry in found.values() if entry.message_id]
    evidence_ids = [entry.evidence_id for entry in found.values() if entry.evidence_id]
    messages = {row.id: row for row in session.connection().execute(
        _MESSAGES, {"ids": message_ids})} if message_ids else {}
    receipts = dict(session.connection().execute(_RECEIPTS, {"ids": evidence_ids}).all()) if evidence_ids else {}
    shown: dict[int, list[Excerpt]] = {}
    for case_id, entry in found.items():
        items = [Excerpt("details")] if entry.details else []
        if entry.message_id in messages:
            message = messages[entry.message_id]
            internal = message.visibility == MessageVisibility.internal
            items.append(Excerpt("note" if internal else "message", excerpt(message.body, terms)))
        if entry.evidence_id in receipts:
            items.append(Excerpt("receipt", excerpt(receipts[entry.evidence_id], terms)))
        shown[case_id] = items
    return shown


def excerpt(written: str, terms: Terms) -> Markup | None:
    """A few words around the first match, matching words in ``<mark>``, the rest escaped."""
    written = " ".join(written.split())
    words = list(WORD.finditer(written))
    hits = {index for index, word in enumerate(words) if terms.matches(word.group())}
    if not hits:
        return None
    start = max(0, min(hits) - EXCERPT_WORDS // 3)
    end = min(len(words), start + EXCERPT_WORDS)
    begin = words[start].start() if start else 0
    stop = words[end - 1].end() if end < len(words) else len(written)
    parts, position = [Markup("…") if begin else Markup("")], begin
    for index in range(start, end):
        if index in hits:
            word = words[index]
            parts += [escape(written[position:word.start()]), Markup("<mark>"), escape(word.group()), Markup("</mark>")]
            position = word.end()
    parts.append(escape(written[position:stop]))
    if stop < len(written):
        parts.append(Markup("…"))
    return Markup("").join(parts)
