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
are ordered by score, then newest first. A word found in a few
thousand texts costs what a rare one costs; for a word found everywhere, the page says that
only the newest matches were ranked. Pages are offsets into that bounded ranking.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import bindparam, column, func, literal_column, select, table, text
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
    for source, query in (_postgres_queries if postgres else _sqlite_queries)(terms, conditions):
        rows = session.execute(query.limit(CANDIDATES)).all()
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


def _sqlite_queries(terms: Terms, conditions: list):
    match = bindparam("match", terms.fts5())
    details = table("case_search", column("rowid"))
    yield "details", (select(Case.id, Case.id.label("item_id"), func.bm25(literal_column("case_search"), 1.0, 4.0, 2.0, 1.0, 1.0))
                      .select_from(details).join(Case, Case.id == details.c.rowid)
                      .where(text("case_search MATCH :match").bindparams(match), *conditions)
                      .order_by(details.c.rowid.desc()))
    messages = table("message_search", column("rowid"))
    yield "message", (select(Message.case_id, Message.id, func.bm25(literal_column("message_search")))
                      .select_from(messages).join(Message, Message.id == messages.c.rowid)
                      .join(Case, Case.id == Message.case_id)
                      .where(text("message_search MATCH :match").bindparams(match), *conditions)
                      .order_by(messages.c.rowid.desc()))
    receipts = table("evidence_search", column("rowid"))
    yield "receipt", (select(Evidence.case_id, Evidence.id, func.bm25(literal_column("evidence_search")))
                      .select_from(receipts).join(Evidence, Evidence.id == receipts.c.rowid)
                      .join(Case, Case.id == Evidence.case_id)
                      .where(text("evidence_search MATCH :match").bindparams(match), *conditions)
                      .order_by(receipts.c.rowid.desc()))


def _postgres_queries(terms: Terms, conditions: list):
    query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery", terms.tsquery()))

    def ranked(vector_of: str):
        vector = literal_column(f'"{vector_of}".search_vector')
        return func.ts_rank(vector, query, 32), vector.op("@@")(query)

    relevance, matched = ranked("case")
    yield "details", (select(Case.id, Case.id.label("item_id"), relevance).where(matched, *conditions).order_by(Case.id.desc()))
    relevance, matched = ranked("message")
    yield "message", (select(Message.case_id, Message.id, relevance).select_from(Message)
                      .join(Case, Case.id == Message.case_id).where(matched, *conditions).order_by(Message.id.desc()))
    relevance, matched = ranked("evidence")
    yield "receipt", (select(Evidence.case_id, Evidence.id, relevance).select_from(Evidence)
                      .join(Case, Case.id == Evidence.case_id).where(matched, *conditions).order_by(Evidence.id.desc()))


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
