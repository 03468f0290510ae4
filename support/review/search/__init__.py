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
rowid order (``sqlite``); PostgreSQL reads windows of ids, the three sources at once
(``postgres``): see ``bench/README.md`` for what each costs. ``words`` cuts what is typed,
``ranking`` scores and excerpts, ``limits`` says how much a search reads.
"""
from .ranking import Excerpt, Found, Ranking, excerpts, rank
from .words import FOLD_FROM, FOLD_TO, WORD, Terms, excerpt, fold

__all__ = ["FOLD_FROM", "FOLD_TO", "WORD", "Excerpt", "Found", "Ranking", "Terms", "excerpt", "excerpts", "fold",
           "rank"]
