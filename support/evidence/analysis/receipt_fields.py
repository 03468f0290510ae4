"""What a receipt says, found in its lines of text: IMEIs, serials, dates, shop, model, total.

The lines come from a PDF's text layer or from Tesseract (``receipt_text``); each line is
a list of words, each word with its box in the picture (or ``None`` for PDF text). A value
found in a line gets the union of the boxes of the words it spans.

Reading rules, where a receipt can be read two ways:
- an IMEI is 15 digits with a valid Luhn check digit, spaces or dashes allowed between
  groups; in a run with at least 8 real digits, OCR's look-alikes (O o → 0, I l | → 1, S → 5, B → 8)
  are read as digits. A 16-digit IMEISV or a 15-digit number failing Luhn is not an IMEI;
- a numeric date is day first (05.12.2026, 5/12/26 are 5 December 2026) unless only the
  other order makes a date (12/25/2026); two-digit years are 20yy. Month names in English,
  Italian and Russian (either case, abbreviated or not);
- the shop is the first line with three letters or more (a till prints it on top);
- the model is the longest name of ``device_models.RELEASED`` in the text, else what follows
  a "Model" label;
- the total is the last amount on the last line labelled total (not subtotal), with the
  currency the receipt names, as ``"123.45 RUB"``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ... import device_models
from ...imei import is_valid
from ...models import ExtractedKind, ExtractedSource
from .found import Found


@dataclass(frozen=True)
class Word:
    text: str
    #: [x0, y0, x1, y1] in the picture's pixels, None for a PDF's text layer
    box: tuple[int, int, int, int] | None = None
    #: Tesseract's confidence 0-1, None for a PDF's text layer
    confidence: float | None = None


@dataclass
class Line:
    words: list[Word]
    page: int | None = None

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    def span(self, start: int, end: int) -> tuple[tuple[int, int, int, int] | None, float | None]:
        """The box and the lowest confidence of the words covering characters ``start:end``."""
        covered, position = [], 0
        for word in self.words:
            word_end = position + len(word.text)
            if word_end > start and position < end:
                covered.append(word)
            position = word_end + 1
        boxes = [word.box for word in covered if word.box]
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
               max(b[3] for b in boxes)) if boxes else None
        confidences = [word.confidence for word in covered if word.confidence is not None]
        return box, (round(min(confidences), 3) if confidences else None)


def _found(kind: str, value: str, line: Line, match: re.Match, source: str, group: int = 0) -> Found:
    box, confidence = line.span(match.start(group), match.end(group))
    return Found(ExtractedKind(kind), value, match.group(group).strip(), ExtractedSource(source), box, line.page,
                 confidence)


# -- IMEIs and serials ----------------------------------------------------------------------

_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8"})
_NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9OoDIl|SB](?:[0-9OoDIl|SB]|[ \-](?=[0-9OoDIl|SB])){14,24}(?![0-9A-Za-z])")


def imeis(line: Line, source: str) -> list[Found]:
    found = []
    for match in _NUMBER_RUN.finditer(line.text):
        raw = match.group(0)
        if sum(char.isdigit() for char in raw) < 8:
            continue
        digits = re.sub(r"[ \-]", "", raw.translate(_LOOKALIKES))
        if len(digits) == 15 and is_valid(digits):
            found.append(_found("imei", digits, line, match, source))
    return found


_SERIAL = re.compile(
    r"(?:\bS/?N\b|\bserial(?:\s*(?:no\.?|number|#))?|серийный\s+номер|\bС/Н\b|numero\s+di\s+serie|"
    r"\bN\.?\s*serie|matricola)\s*[:#.№]?\s*([A-Z0-9][A-Z0-9\-]{5,24})\b", re.IGNORECASE)


def serials(line: Line, source: str) -> list[Found]:
    """A serial follows its label and has a digit; 15 digits are an IMEI, not a serial."""
    return [_found("serial", match.group(1).upper(), line, match, source, 1)
            for match in _SERIAL.finditer(line.text)
            if any(char.isdigit() for char in match.group(1)) and not is_valid(match.group(1))]


# -- dates ------------------------------------------------------------------------------------

_MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # Italian
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7, "agosto": 8,
    "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12, "gen": 1, "mag": 5, "giu": 6, "lug": 7,
    "ago": 8, "set": 9, "ott": 10, "dic": 12,
    # Russian, genitive (5 декабря) and nominative, and the usual abbreviations
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7, "августа": 8,
    "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12, "январь": 1, "февраль": 2, "март": 3,
    "апрель": 4, "май": 5, "июнь": 6, "июль": 7, "август": 8, "сентябрь": 9, "октябрь": 10, "ноябрь": 11,
    "декабрь": 12, "янв": 1, "фев": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12,
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d.,/-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d]|[.,/-]\d)")
_DAY_MONTH = re.compile(rf"(?<!\d)(\d{{1,2}})\s*(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"(?<![^\W\d_])({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _numeric_date(first: str, second: str, year: str) -> date | None:
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return _date(full_year, int(second), int(first)) or _date(full_year, int(first), int(second))


def dates(line: Line, source: str) -> list[Found]:
    text, found, taken = line.text, [], []

    def keep(match: re.Match, value: date | None) -> None:
        if value and 1990 <= value.year <= 2100 and not any(a < match.end() and match.start() < b for a, b in taken):
            taken.append((match.start(), match.end()))
            found.append(_found("date", value.isoformat(), line, match, source))

    for match in _ISO.finditer(text):
        keep(match, _date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
    for match in _DAY_MONTH.finditer(text):
        keep(match, _date(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1))))
    for match in _MONTH_DAY.finditer(text):
        keep(match, _date(int(match.group(3)), _MONTHS[match.group(1).lower()], int(match.group(2))))
    for match in _NUMERIC.finditer(text):
        keep(match, _numeric_date(match.group(1), match.group(3), match.group(4)))
    return sorted(found, key=lambda item: text.find(item.raw))


# -- shop, model, total ------------------------------------------------------------------------


def shop(lines: list[Line], source: str) -> list[Found]:
    for line in lines:
        match = re.search(r"\S.*\S", line.text)
        if match and sum(char.isalpha() for char in match.group(0)) >= 3:
            return [_found("shop", re.sub(r"\s+", " ", match.group(0)), line, match, source)]
    return []


_MODEL_LABEL = re.compile(r"\b(?:model|модель|modello)\s*[:.]?\s*(\S.{1,40}?)\s*$", re.IGNORECASE)


def model(lines: list[Line], source: str) -> list[Found]:
    for name in sorted(device_models.RELEASED, key=len, reverse=True):
        pattern = re.compile(r"(?<![\w])" + r"\s*".join(map(re.escape, name.split())) + r"(?![\w])", re.IGNORECASE)
        for line in lines:
            match = pattern.search(line.text)
            if match:
                return [_found("model", name, line, match, source)]
    for line in lines:
        match = _MODEL_LABEL.search(line.text)
        if match:
            return [_found("model", match.group(1), line, match, source, 1)]
    return []


_TOTAL_LABEL = re.compile(r"(?<![\w])(?:total[e]?|итого|итог|к\s+оплате|amount\s+due|importo)(?![\w])", re.IGNORECASE)
_SUBTOTAL = re.compile(r"sub\s*-?\s*total|подытог|parziale", re.IGNORECASE)
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ \u00a0.,']\d{3})+|\d+)[.,](\d{2})(?![\d])")
_CURRENCIES = [("EUR", r"€|\bEUR\b|\bEuro\b"), ("RUB", r"₽|\bRUB\b|\bруб\b|\bр\.|\bрублей\b"),
               ("USD", r"\$|\bUSD\b"), ("GBP", r"£|\bGBP\b")]


def currency(text: str) -> str | None:
    for code, pattern in _CURRENCIES:
        if re.search(pattern, text, re.IGNORECASE):
            return code
    return None


def total(lines: list[Line], source: str) -> list[Found]:
    """The amount on the last line labelled total, or on the line just below it (a PDF's
    columns can put the label and the amount on lines of their own)."""
    everything = " ".join(line.text for line in lines)
    for index in reversed(range(len(lines))):
        if not _TOTAL_LABEL.search(lines[index].text) or _SUBTOTAL.search(lines[index].text):
            continue
        for line in lines[index:index + 2]:
            amounts = list(_AMOUNT.finditer(line.text))
            if amounts:
                match = amounts[-1]
                code = currency(line.text) or currency(everything)
                value = f"{int(re.sub(r'[^0-9]', '', match.group(1)))}.{match.group(2)}" + (f" {code}" if code else "")
                return [_found("total", value, line, match, source)]
    return []


def fields(lines: list[Line], source: str) -> list[Found]:
    """Every value the lines yield, in reading order within each kind."""
    found: list[Found] = []
    for line in lines:
        found += imeis(line, source)
    for line in lines:
        found += serials(line, source)
    for line in lines:
        found += dates(line, source)
    return found + shop(lines, source) + model(lines, source) + total(lines, source)
