"""One term per language for a case: Russian "обращение" (never "заявка"), Italian "pratica"
(never "richiesta" for the case). Every catalog, the claimant's side included."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parent.parent / "support"
#: Italian "richiesta" is right where the English says "request" (an HTTP request, a change the
#: account's owner may cancel, an action someone asked for); where the English says "case" it is wrong
ENGLISH_REQUEST = re.compile(r"\brequest", re.I)
FORBIDDEN = {"ru": re.compile(r"заявк", re.I), "it": re.compile(r"\brichiest[ae]\b", re.I)}


def _messages(language: str):
    for path in sorted(CATALOGS.glob(f"**/translations/{language}/LC_MESSAGES/messages.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if not message.id:
                    continue
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                strings = [message.string] if isinstance(message.string, str) else list(message.string)
                for string in strings:
                    yield path.relative_to(CATALOGS.parent), msgid, string or ""


def test_russian_says_obrashchenie_for_a_case():
    wrong = [f"{path}: {msgid!r} → {string!r}" for path, msgid, string in _messages("ru")
             if FORBIDDEN["ru"].search(string)]
    assert not wrong, "Russian calls a case «обращение», never «заявка»:\n" + "\n".join(wrong)


def test_italian_says_pratica_for_a_case():
    wrong = [f"{path}: {msgid!r} → {string!r}" for path, msgid, string in _messages("it")
             if FORBIDDEN["it"].search(string) and not ENGLISH_REQUEST.search(msgid)]
    assert not wrong, ("Italian calls a case «pratica»; «richiesta» only translates a request:\n"
                       + "\n".join(wrong))


def test_the_term_test_catches_a_slip():
    assert FORBIDDEN["ru"].search("Ваша заявка принята") and FORBIDDEN["it"].search("La richiesta è chiusa")
    assert not FORBIDDEN["it"].search("Il richiedente ha risposto; prove richiesti")
