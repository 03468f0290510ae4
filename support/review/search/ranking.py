"""A search's ranking: each source's candidates scored per case, best first, and where each
case matched, with an excerpt."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlmodel import Session

from ...models import Evidence, Message, MessageVisibility
from . import limits, postgres, sqlite
from .words import Terms, excerpt

#: how much a match in each source counts towards a case's score
WEIGHTS = {"details": 3.0, "receipt": 2.0, "message": 1.0}


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
    on_postgres = session.get_bind().dialect.name == "postgresql"
    found: dict[int, Found] = {}
    capped = False
    sources = postgres.sources if on_postgres else sqlite.sources
    for source, rows in sources(session, terms, tuple(conditions), dict(values or {})):
        capped |= len(rows) == limits.CANDIDATES
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
