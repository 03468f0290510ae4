"""The words of a search: cut and folded as the indexes cut text, quoted for each database's
query syntax, found in a text, and highlighted in an excerpt of it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

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

    def matches(self, folded: str) -> bool:
        """Whether a word of a text, folded, is one of these (for the excerpt's highlights)."""
        return folded in self.words or (self.prefix and folded.startswith(self.words[-1]))

    def found_in(self, written: str) -> bool:
        """Whether a text holds every word, as the index would find it (SQLite: the texts of a
        filter's few cases are read and tested here, not asked of FTS5 row by row)."""
        words = set(WORD.findall(fold(written)))
        exact = self.words[:-1] if self.prefix else self.words
        return all(word in words for word in exact) and (
            not self.prefix or any(word.startswith(self.words[-1]) for word in words))


def excerpt(written: str, terms: Terms) -> Markup | None:
    """A few words around the first match, matching words in ``<mark>``, the rest escaped."""
    written = " ".join(written.split())
    words = list(WORD.finditer(written))
    folded = fold(written)  # once for the text; a word at a time where folding changed its length
    fold_at = (lambda word: folded[word.start():word.end()]) if len(folded) == len(written) else \
        (lambda word: fold(word.group()))
    hits = {index for index, word in enumerate(words) if terms.matches(fold_at(word))}
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
