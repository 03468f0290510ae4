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

Ranking: per source, the newest ``CANDIDATES`` matching texts (newest first, which an index
walks in order and stops) are ranked by the database (``bm25`` / ``ts_rank``, turned into
0…1); a case scores its best text per source, weighted (its own details above receipts above
messages: a match counts half its weight, how well it matches the other half, so a word
common to every email still ranks a case's own details above a passing mention), and cases
are ordered by score, then newest first. For a word found everywhere the page says that
only the newest matches were ranked. Pages are offsets into that bounded ranking. On
PostgreSQL a word of middle frequency (0.1-1 % of the rows) is the slow case: see
``_postgres_candidates`` and ``bench/README.md``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

from markupsafe import Markup, escape
from sqlalchemy import Integer, any_, bindparam, column, func, literal_column, select, table, text
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
CANDIDATES = 500
#: how much a match in each source counts towards a case's score
WEIGHTS = {"details": 3.0, "receipt": 2.0, "message": 1.0}
#: words of context shown around the first matching word
EXCERPT_WORDS = 14


def fold(words: str) -> str:
    return words.lower().translate(_FOLD)


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
    for source, candidates in (_postgres_sources if postgres else _sqlite_sources)(terms, conditions):
        rows = candidates(session)
        capped |= len(rows) == CANDIDATES
        best: dict[int, tuple[float, int]] = {}
        for case_id, item_id, relevance in rows:
            relevance = _unit(relevance, postgres)
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


def _unit(relevance: float | None, postgres: bool) -> float:
    """0…1, higher is better: ``ts_rank(…, 32)`` already is; FTS5's ``bm25`` is negative, better lower."""
    value = float(relevance or 0.0)
    if postgres:
        return value
    value = max(0.0, -value)
    return value / (1.0 + value)


def _sqlite_sources(terms: Terms, conditions: list):
    """FTS5 walks each index newest first (``ORDER BY rowid DESC`` is the index's own order) and
    stops after ``CANDIDATES`` matches among the filtered cases."""
    match = bindparam("match", terms.fts5())
    for source, index, model, case_id, weights in (
            ("details", "case_search", Case, Case.id, (1.0, 4.0, 2.0, 1.0, 1.0)),
            ("message", "message_search", Message, Message.case_id, ()),
            ("receipt", "evidence_search", Evidence, Evidence.case_id, ())):
        fts = table(index, column("rowid"))
        query = (select(case_id, model.id.label("item_id"), func.bm25(literal_column(index), *weights))
                 .select_from(fts).join(model, model.id == fts.c.rowid))
        if model is not Case:
            query = query.join(Case, Case.id == case_id)
        query = (query.where(text(f"{index} MATCH :match").bindparams(match), *conditions)
                 .order_by(fts.c.rowid.desc()).limit(CANDIDATES))
        yield source, lambda session, query=query: session.execute(query).all()


#: PostgreSQL: matches a search takes through the GIN index before it walks newest first instead
PROBE = 5000


def _postgres_sources(terms: Terms, conditions: list):
    query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery", terms.tsquery()))
    for source, model, case_id in (("details", Case, Case.id), ("message", Message, Message.case_id),
                                   ("receipt", Evidence, Evidence.case_id)):
        yield source, partial(_postgres_candidates, model=model, case_id=case_id, query=query, conditions=conditions)


def _postgres_candidates(session: Session, *, model, case_id, query, conditions: list) -> list:
    """The newest ``CANDIDATES`` matches among the filtered cases, whatever the words' frequency.

    Left to itself the planner walks the primary key newest first whenever it guesses a word
    common, and reads the whole table when the guess is wrong (a rare name: seconds). So the
    GIN index is asked first for at most ``PROBE`` matches; when that is all of them, the newest
    are picked among those. Only a word with more matches walks the primary key, where
    ``(… @@ …) IS TRUE`` (no index can answer it) keeps the planner on that walk, which then
    finds its matches densely and stops early.
    """
    vector = literal_column(f'"{model.__tablename__}".search_vector')
    matched = vector.op("@@")(query)
    ranked = select(case_id, model.id.label("item_id"), func.ts_rank(vector, query, 32)).select_from(model)
    if model is not Case:
        ranked = ranked.join(Case, Case.id == case_id)
    ids = session.execute(select(model.id).where(matched).limit(PROBE + 1)).scalars().all()
    if not ids:
        return []
    if len(ids) <= PROBE:
        chosen = model.id == any_(bindparam("ids", value=list(ids), type_=ARRAY(Integer)))
    else:
        chosen = matched.is_(True)
    return session.execute(ranked.where(chosen, *conditions).order_by(model.id.desc()).limit(CANDIDATES)).all()


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
