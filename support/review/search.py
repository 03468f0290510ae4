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
then newest first. For a word found everywhere the page says that only the newest matches were ranked. Pages are
offsets into that bounded ranking. SQLite's FTS5 walks its index in rowid order; PostgreSQL
reads windows of ids (``_newest_first``): see ``bench/README.md`` for what each costs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from markupsafe import Markup, escape
from sqlalchemy import Integer, any_, bindparam, column, func, literal_column, select, table, text, true
from sqlalchemy.dialects.postgresql import ARRAY
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


def rank(session: Session, terms: Terms, conditions: list) -> Ranking:
    """The cases whose details, messages or receipts hold every word, best first, among the
    cases that meet the queue's ``conditions``."""
    postgres = session.get_bind().dialect.name == "postgresql"
    found: dict[int, Found] = {}
    capped = False
    for source, rows in (_postgres_sources if postgres else _sqlite_sources)(session, terms, conditions):
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


def _sqlite_sources(session: Session, terms: Terms, conditions: list):
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
            select(Case.id).where(*conditions).limit(FEW_CASES + 1)).scalars().all()
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
            rows = session.connection().execute(query).all()
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


#: PostgreSQL: the newest rows of a source read first, one by one
FIRST_WINDOW = 500
#: PostgreSQL: a later window of ids this small is read one row at a time too
WALK_ROWS = 16000
#: PostgreSQL: reading a row costs about as much as this many entries of a GIN bitmap
GIN_ENTRIES_PER_ROW = 8
#: PostgreSQL: a window is sized for this many times the matches still wanted, at the density seen so far
WINDOW_MARGIN = 1.25
#: a queue filter that leaves at most this many cases is searched through their ids, not newest first
FEW_CASES = 2000


def _postgres_sources(session: Session, terms: Terms, conditions: list):
    """Each source's newest matches, in windows of ids (``_newest_first``); when the queue's
    filters leave at most ``FEW_CASES`` cases (the flagged ones), among the texts of those
    cases, which each source's ``case_id`` index finds."""
    few = None
    if conditions:
        ids = session.connection().execute(select(Case.id).where(*conditions).limit(FEW_CASES + 1)).scalars().all()
        if not ids:
            return
        if len(ids) <= FEW_CASES:
            few = bindparam("cases", sorted(ids), type_=ARRAY(Integer))
    query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery", terms.tsquery()))
    sources = (("details", Case, Case.id), ("message", Message, Message.case_id), ("receipt", Evidence, Evidence.case_id))
    # with each source's newest id, for this search only: every statement is planned for its
    # own window and words (never a generic plan of a statement the driver has prepared)
    plans, _, *tops = session.connection().execute(select(
        func.current_setting("plan_cache_mode"), func.set_config("plan_cache_mode", "force_custom_plan", True),
        *(select(func.max(model.id)).scalar_subquery() for _, model, _ in sources))).one()
    for (source, model, case_id), top in zip(sources, tops):
        matched = literal_column(f'"{model.__tablename__}".search_vector').op("@@")(query)
        if few is None:
            yield source, _newest_first(top or 0, model, partial(_matches, session, model, case_id, query, conditions),
                                        matched)
        else:
            yield source, _matches(session, model, case_id, query, [], matched, case_id == any_(few), limit=CANDIDATES)
    session.connection().execute(select(func.set_config("plan_cache_mode", plans, True)))


def _matches(session: Session, model, case_id, query, conditions: list, *where, limit: int | None) -> list:
    """The newest ``limit`` rows ``where`` picks whose case meets ``conditions``, ranked; with no
    ``limit`` every row ``where`` picks, each saying whether its case meets them (``kept``).

    The rows are picked in a subquery the planner keeps whole (``OFFSET 0``): it fetches them
    its cheapest way instead of walking the primary key in the order asked. Each row's case
    is then tested by its primary key (a subplan, never a join that reads every open case).
    On the session's connection: an ORM result costs more to set up than a small window.
    """
    vector = literal_column(f'"{model.__tablename__}".search_vector')
    found = (select(model.id.label("id"), case_id.label("case_id"), vector.label("search_vector"))
             .where(*where).offset(0).subquery("found"))
    kept = select(true()).where(Case.id == found.c.case_id, *conditions).scalar_subquery() if conditions else true()
    ranked = select(found.c.case_id, found.c.id.label("item_id"), func.ts_rank(found.c.search_vector, query, 32))
    if limit is None:
        ranked = ranked.add_columns(func.coalesce(kept, False).label("kept"))
        return session.connection().execute(ranked.order_by(found.c.id.desc())).all()
    return session.connection().execute(ranked.where(kept).order_by(found.c.id.desc()).limit(limit)).all()


def _newest_first(top: int, model, matches, matched) -> list:
    """The newest ``CANDIDATES`` matches of a source, in windows of ids, newest first.

    The first window, the newest ``FIRST_WINDOW`` rows, is read by the primary key, each row
    tested (``(… @@ …) IS TRUE``, which no index answers): a common word is done there. It
    also tells how common the words are, before the queue's filters. Each later window is
    sized from the matches per row seen so far, for ``WINDOW_MARGIN`` times the matches still
    wanted, and read one of two ways. Walked as the first one when it is small
    (``WALK_ROWS``) or when the GIN bitmap of the words would cost more: that bitmap holds
    every match in the table, and reading a row costs about ``GIN_ENTRIES_PER_ROW`` of its
    entries. Otherwise (the words are rare) the GIN bitmap is ANDed with the BRIN bitmap of
    the window's ids (migration ``search_2``), so only the pages holding a match inside the
    window are read.
    """
    high = max(0, top - FIRST_WINDOW)
    newest = matches(model.id > high, model.id <= top, matched.is_(True), limit=None)
    rows = [(case_id, item_id, relevance) for case_id, item_id, relevance, kept in newest if kept][:CANDIDATES]
    walked = max(WALK_ROWS, (len(newest) + 1) / max(1, top - high) * top / GIN_ENTRIES_PER_ROW)
    seen = top - high
    while high > 0 and len(rows) < CANDIDATES:
        size = math.ceil((CANDIDATES - len(rows)) * WINDOW_MARGIN * seen / (len(rows) + 1))
        low = max(0, high - size)
        test = matched.is_(True) if high - low <= walked else matched
        rows += matches(model.id > low, model.id <= high, test, limit=CANDIDATES - len(rows))
        seen += high - low
        high = low
    return rows


def excerpts(session: Session, terms: Terms, found: dict[int, Found]) -> dict[int, list[Excerpt]]:
    """Per case, where it matched, with the words around the first match highlighted."""
    message_ids = [entry.message_id for entry in found.values() if entry.message_id]
    evidence_ids = [entry.evidence_id for entry in found.values() if entry.evidence_id]
    messages = {row.id: row for row in session.execute(
        select(Message.id, Message.body, Message.visibility).where(Message.id.in_(message_ids)))} if message_ids else {}
    receipts = dict(session.execute(
        select(Evidence.id, Evidence.read_text).where(Evidence.id.in_(evidence_ids))).all()) if evidence_ids else {}
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
