"""SQLite's side of a search: FTS5 finds each source's newest candidates, the desk ranks them (BM25)."""
from __future__ import annotations

from itertools import islice

from sqlalchemy import bindparam, column, select, table, text
from sqlmodel import Session

from ...models import Case, Evidence, Message
from . import limits
from .words import WORD, Terms, fold

#: the claimant's details, each column's weight in the relevance (the name counts most)
DETAILS = {Case.number: 1.0, Case.claimant_name: 4.0, Case.contact_email: 2.0, Case.imei1: 1.0, Case.imei2: 1.0}
#: BM25's term-frequency saturation and length normalisation, as FTS5's ``bm25()`` has them
BM25_K1 = 1.2
BM25_B = 0.75


def sources(session: Session, terms: Terms, conditions: tuple, values: dict):
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
            select(Case.id).where(*conditions).limit(limits.FEW_CASES + 1), values).scalars().all()
        if not few:
            return
        if len(few) > limits.FEW_CASES:
            few = None
    match = bindparam("match", terms.fts5())
    for source, index, model, case_id, columns in (
            ("details", "case_search", Case, Case.id, DETAILS),
            ("message", "message_search", Message, Message.case_id, {Message.body: 1.0}),
            ("receipt", "evidence_search", Evidence, Evidence.case_id, {Evidence.read_text: 1.0})):
        if few is not None:
            texts = session.connection().execute(select(case_id, model.id.label("item_id"), *columns)
                                                 .where(case_id.in_(few)).order_by(model.id.desc()))
            found = (row for row in texts if terms.found_in(" ".join(filter(None, row[2:]))))
            rows = list(islice(found, limits.CANDIDATES))
        else:
            fts = table(index, column("rowid"))
            query = (select(case_id, model.id.label("item_id"), *columns)
                     .select_from(fts).join(model, model.id == fts.c.rowid))
            if model is not Case:
                query = query.join(Case, Case.id == case_id)
            query = (query.where(text(f"{index} MATCH :match").bindparams(match), *conditions)
                     .order_by(fts.c.rowid.desc()).limit(limits.CANDIDATES))
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
