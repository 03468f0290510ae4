"""Russian and Italian claimant pages and emails have no English left in them."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from intake_samples import SVG, outbox

CATALOG = Path(__file__).parents[2] / "support" / "intake" / "translations"


class _Text(HTMLParser):
    """What a reader sees: text, button labels, placeholders; not scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "alt", "title", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_phrases(language: str) -> list[str]:
    """Every English fragment of the catalog whose translation differs (brand names do not)."""
    catalog = read_po((CATALOG / language / "LC_MESSAGES" / "messages.po").open("rb"))
    phrases = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)  # plural forms: each
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if ids[0] and any(strings) and set(strings) != set(ids):
            phrases += [part.strip() for msgid in ids for part in re.split(r"%\(\w+\)[sd]", msgid)
                        if len(part.strip()) >= 6 and re.search(r"[a-z]{3,}", part)]
    return phrases


def assert_no_english(text: str, language: str) -> None:
    leftovers = [phrase for phrase in english_phrases(language) if phrase in text]
    assert not leftovers, f"English left in the {language} page: {leftovers}"
    if language == "ru":  # three Latin words in a row is English in a Russian page
        allowed = {"Recovery Desk", "English", "Italiano", "JPEG", "PNG", "WebP", "HEIC", "PDF", "IMEI"}
        runs = [run for run in re.findall(r"[A-Za-z]{2,}(?:[ ,.]+[A-Za-z]{2,}){2,}", text)
                if not set(re.split(r"[ ,.]+", run)) <= {word for item in allowed for word in item.split()}]
        assert not runs, f"Latin text in the Russian page: {runs}"


@pytest.mark.parametrize("language", ["ru", "it"])
def test_the_claimant_pages_have_no_english_left(client, make_case, language):
    assert english_phrases(language), "the catalog was not read"
    pages = [client.get(f"/recover?lang={language}").text]
    assert f'<html lang="{language}">' in pages[0]
    refused = client.post("/recover", data={"kind": "device_unbind", "imei1": "3520990017614823",
                                            "evidence-box_photo": [(io.BytesIO(SVG), "box.svg")]},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    pages.append(refused.text)
    pages.append(client.post("/track", data={"number": "RD-2026-999999", "token": "x"}).text)
    case, token = make_case()
    client.post("/track", data={"number": case.number, "token": token})
    pages.append(client.get("/track/case").text)
    pages.append(client.get("/").text)
    pages.append(client.get("/account/sign-in").text)
    pages.append(client.get("/no-such-page").text)
    for page in pages:
        assert_no_english(visible_text(page), language)


def test_accept_language_chooses_until_the_switcher_does(client):
    assert "Apri una pratica di recupero" in client.get("/recover", headers={"Accept-Language": "it, en;q=0.5"}).text
    assert "Подать обращение" in client.get("/recover?lang=ru", headers={"Accept-Language": "it"}).text
    assert "Подать обращение" in client.get("/track", headers={"Accept-Language": "it"}).text  # remembered


@pytest.mark.parametrize("language", ["ru", "it"])
def test_the_emails_are_in_the_claimants_language(app, recover, language):
    assert recover("locked_account", language=language).status_code == 303
    [confirmation] = outbox(app)
    text = confirmation["Subject"] + " " + confirmation.get_content()
    assert_no_english(text.replace("Maria Rossi", ""), language)
    assert {"ru": "Личный код", "it": "Codice privato"}[language] in text


@pytest.mark.parametrize("language", ["ru", "it"])
def test_the_checklist_of_requested_items_has_no_english_left(app, client, make_case, language):
    """A request with a file to send again, a document and a question, then a refused file beside its slot."""
    from support import cases, db, verdicts
    from support.audit import SYSTEM
    from support.models import Case, CaseStatus, Evidence, EvidenceKind, Verdict, VerdictReason

    case, token = make_case(status=CaseStatus.in_review)
    with app.test_request_context(), db.transaction(app) as session:
        stored = session.get(Case, case.id)
        item = Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256="0" * 64, media_type="image/jpeg", size=1)
        session.add(item)
        session.flush()
        verdicts.set_verdict(session, stored, item, verdict=Verdict.needs_upload, reason=VerdictReason.unreadable,
                             note=None, agent_id=None, actor=SYSTEM)
        cases.request_information(session, stored, requested={"sim_proof": ""}, question="?", body="…",
                                  version=stored.version, actor=SYSTEM)
    client.post("/track", data={"number": case.number, "token": token})
    page = client.get(f"/track/case?lang={language}").text
    assert page.count('class="slot open"') == 3
    refused = client.post("/track/case/checklist", data={"item-999999": (io.BytesIO(SVG), "x.svg")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and 'class="flash error"' in refused.text  # named, though it has no slot
    for text in (page, refused.text):
        assert_no_english(visible_text(text), language)
