"""Full-text search in the queue: claimant details, messages and receipt text, ranked, on
SQLite (FTS5) and PostgreSQL (tsvector + GIN); hostile input; the index forgets what is
blanked or deleted."""
from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import create_engine, delete, inspect, text, update

from support import cases, db
from support.audit import SYSTEM
from support.evidence.analysis import read
from support.evidence.analysis.run import record
from support.models import Case, CaseKind, CaseStatus, Evidence, EvidenceKind, Message, MessageVisibility, Role
from support.review import queue
from tests.receipt_samples import make_receipt, receipt_pdf



def numbers(response) -> list[str]:
    assert response.status_code == 200, response.text
    return re.findall(r'data-number="(RD-[\d-]+)"', response.text)


def search(client, q: str, **args) -> list[str]:
    return numbers(client.get("/queue", query_string={"q": q, **args}))


@pytest.fixture
def write(app):
    """``write(number, message=..., internal=False, receipt=..., **case_fields)``: change a case as the desk does."""

    def change(number: str, *, message: str | None = None, internal: bool = False, receipt: str | None = None,
               **fields):
        with app.app_context(), db.transaction(app) as session:
            case = cases.get_by_number(session, number)
            if message is not None:
                cases.add_message(session, case, body=message, actor=SYSTEM,
                                  visibility=MessageVisibility.internal if internal else MessageVisibility.public)
            if receipt is not None:
                evidence = Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256="0" * 64, media_type="image/jpeg",
                                    size=1, read_text=receipt)
                session.add(evidence)
            if fields:
                session.exec(update(Case).where(Case.id == case.id).values(**fields))

    return change


def test_names_messages_and_receipts_ranked_with_excerpts(client, login, make_case, write):
    login(Role.agent)
    named, _ = make_case(claimant_name="Ivan Petrov")
    written, _ = make_case(claimant_name="Anna Smith")
    receipted, _ = make_case(claimant_name="Mario Rossi", status=CaseStatus.closed)
    make_case(claimant_name="Nobody Else")
    write(written.number, message="My neighbour Petrov sold me this phone <b>cheap</b>.")
    write(receipted.number, receipt="ELDORADO\nКассовый чек\nPetrov & Co.\nIMEI 356938035643809")

    page = client.get("/queue?q=petrov")
    # own details weigh more than a receipt, a receipt more than a message; closed cases included
    assert numbers(page) == [named.number, receipted.number, written.number]
    assert "Best matches first" in page.text and 'aria-sort' not in page.text  # ranked, not sorted
    assert 'data-source="details"' in page.text
    assert "neighbour <mark>Petrov</mark> sold me this phone &lt;b&gt;cheap&lt;/b&gt;." in page.text
    assert re.search(r'data-source="receipt"><span class="match-source">Receipt</span> …?[^<]*<mark>Petrov</mark>', page.text)
    # every word in the same text; a prefix for the last word; case and Latin accents do not matter
    assert search(client, "anna petrov") == []
    assert search(client, "neighbour PETROV") == [written.number]
    assert search(client, "Petr") == [named.number, receipted.number, written.number]
    assert search(client, "кассовый") == [receipted.number]
    assert search(client, "petrov", status="closed") == [receipted.number]  # with the queue's filters
    assert search(client, "356938035643809") == [receipted.number]  # an IMEI no case has: its receipt


def test_russian_and_italian_words(client, login, make_case, write):
    login(Role.agent)
    russian, _ = make_case(claimant_name="Алёна Иванова", language="ru")
    italian, _ = make_case(claimant_name="Niccolò Perché", language="it")
    write(italian.number, message="Il telefono è bloccato, perché ho sbagliato la password.")
    write(russian.number, message="Телефон заблокирован после десяти попыток")
    assert search(client, "Иванова") == [russian.number]
    assert search(client, "ИВАН") == [russian.number]  # prefix, any case
    assert search(client, "алёна") == [russian.number]
    assert search(client, "алена") == []  # ё is a letter of its own
    assert search(client, "niccolo") == [italian.number]
    assert search(client, "Niccolò") == [italian.number]
    assert search(client, "perche") == [italian.number]
    assert search(client, "заблокирован") == [russian.number]
    page = client.get("/queue", query_string={"q": "bloccato"})
    assert "Il telefono è <mark>bloccato</mark>, perché" in page.text


HOSTILE = [
    '"', '""', '"petrov', "petrov\"", "*", "petrov*", "**petrov", "^petrov", "petrov:*", "body:petrov", "claimant_name:petrov",
    "{body claimant_name}: petrov", "NEAR(petrov neighbour)", "petrov NEAR neighbour", "petrov OR zzz", "zzz OR petrov",
    "petrov AND NOT neighbour", "petrov NOT neighbour", "-neighbour petrov", "petrov & !neighbour", "petrov | zzz",
    "!petrov", "petrov <-> neighbour", "(petrov", "petrov)", "'petrov'", "''", "\\", "petrov\\", "%", "_", "%petrov%",
    "petrov'; DROP TABLE message; --", "' OR 1=1 --", "\" OR rowid > 0 --", "1; SELECT pg_sleep(5)",
    "message_search MATCH 'a'", "rank:1", "rowid:1", "petrov" + "x" * 2000, "petrov " * 500, "a b c d e f g h i j k l",
    "😀 petrov", "\u200bpetrov", "p\u0301etrov", "ИВАНОВ\"*", "perch\u00e9*:", "RD-", "@", "@@", "a@", "00000",
]


def test_hostile_input_is_words_never_syntax(app, client, login, make_case, write):
    login(Role.agent)
    case, _ = make_case(claimant_name="Ivan Petrov")
    write(case.number, message="my neighbour")
    for typed in HOSTILE:
        response = client.get("/queue", query_string={"q": typed})
        assert response.status_code == 200, (typed, response.status_code)
    # operators are plain words: OR / NOT / NEAR do not widen or narrow the search
    assert search(client, "zzz OR petrov") == []
    assert search(client, "petrov NOT neighbour") == []
    assert search(client, "NEAR(petrov ivan)") == []
    assert search(client, "-neighbour petrov") == []  # no negation: both words must be there
    assert search(client, "body:neighbour") == []  # no column filter: "body" is a word
    # quoting and punctuation around a word change nothing; a closing mark ends the prefix
    assert search(client, '"petrov"') == search(client, "petrov*") == search(client, "(petrov)") == [case.number]
    assert search(client, '"petr"') == [] and search(client, "petr") == [case.number]
    assert search(client, "*") == [] and search(client, "") != []  # no words: no match; empty: the queue
    assert search(client, "petrov'; DROP TABLE message; --") == []
    with app.app_context(), db.transaction(app) as session:
        assert session.execute(text("SELECT count(*) FROM message")).scalar() >= 1


def test_the_index_forgets_blanked_updated_and_deleted_text(app, client, login, make_case, write):
    login(Role.agent)
    case, _ = make_case(claimant_name="Giulia Bianchi", contact_email="giulia@example.test")
    other, _ = make_case(claimant_name="Someone Else")
    write(other.number, message="Ask Bianchi for the box", receipt="Negozio Bianchi Elettronica")
    write(case.number, message="Bianchi writes again")
    assert set(search(client, "bianchi")) == {case.number, other.number}

    # blanked as erasure does: name, email, message bodies, receipt text
    write(case.number, claimant_name="", contact_email="")
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Message).where(Message.case_id == case.id).values(body=""))
    assert search(client, "giulia") == [] and search(client, "bianchi") == [other.number]
    assert search(client, "giulia@example.test") == []

    # renamed: the old name is gone, the new one found
    write(other.number, claimant_name="Someone Renamed")
    assert search(client, "renamed") == [other.number] and search(client, "someone else") == []
    write(other.number, claimant_name="Someone Else")

    # the receipt's text blanked, then the message deleted: nothing left to find
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Evidence).where(Evidence.case_id == other.id).values(read_text=""))
    page = client.get("/queue?q=bianchi")
    assert numbers(page) == [other.number] and 'data-source="receipt"' not in page.text
    with app.app_context(), db.transaction(app) as session:
        session.exec(delete(Message).where(Message.case_id == other.id))
        session.exec(delete(Evidence).where(Evidence.case_id == other.id))
    assert search(client, "bianchi") == [] and search(client, "negozio") == [] and search(client, "box") == []


def test_index_integrity_after_changes(app, make_case, write):
    """SQLite: FTS5's own integrity check agrees with its content tables after the triggers ran."""
    case, _ = make_case(claimant_name="Check Integrity")
    write(case.number, message="one", receipt="two")
    write(case.number, claimant_name="Checked")
    with app.app_context(), db.transaction(app) as session:
        if session.get_bind().dialect.name != "sqlite":
            assert {"search_vector"} <= {column["name"] for column in inspect(session.get_bind()).get_columns("message")}
            return
        session.exec(update(Message).where(Message.case_id == case.id).values(body="changed"))
        session.exec(delete(Evidence).where(Evidence.case_id == case.id))
        for index in ("case_search", "message_search", "evidence_search"):
            session.execute(text(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)"))


def test_ranked_pages_walk_every_match_once_with_the_filters(app, client, login, make_case, write):
    agent = login(Role.agent)
    made = [make_case(claimant_name=f"Rossi {n}", kind=CaseKind.device_unbind if n % 2 else CaseKind.locked_account)[0]
            for n in range(7)]
    write(made[0].number, assignee_id=agent.id)
    make_case(claimant_name="Verdi")
    original = queue.PAGE_SIZE
    queue.PAGE_SIZE = 3
    try:
        def walk(url):
            seen = []
            while url:
                response = client.get(url)
                seen += numbers(response)
                found = re.search(r'rel="next" href="([^"]+)"', response.text)
                url = "/queue" + found.group(1).replace("&amp;", "&") if found else None
            return seen

        seen = walk("/queue?q=rossi")
        assert sorted(seen) == sorted(case.number for case in made) and len(seen) == 7
        assert seen == [case.number for case in sorted(made, key=lambda case: -case.id)]  # equal scores: newest first
        assert sorted(walk("/queue?q=rossi&kind=device_unbind")) == sorted(case.number for case in made[1::2])
        assert walk("/queue?q=rossi&assignee=me") == [made[0].number]
        assert len(walk("/queue?q=rossi&status=open")) == 7  # the literal SQL of the open queue, joined
        assert walk("/queue?q=rossi&flagged=1") == walk("/queue?q=rossi&breached=1&status=closed") == []
    finally:
        queue.PAGE_SIZE = original
    assert client.get("/queue?q=rossi&after=r3").status_code == 200
    for forged in ("r", "r-1", "rx", "r99999999", "2026-01-01T00:00:00+00:00|1", "r3 OR 1=1"):
        assert client.get("/queue", query_string={"q": "rossi", "after": forged}).status_code == 400, forged
    assert numbers(client.get("/queue?q=rossi&after=r900")) == []  # past the end: an empty page


def test_internal_notes_are_found_and_labelled_for_every_reader(client, login, make_case, write):
    case, _ = make_case(claimant_name="Paolo Neri")
    write(case.number, message="Suspicious: same box photo as another case", internal=True)
    for role in (Role.agent, Role.auditor):
        login(role)
        page = client.get("/queue?q=suspicious")
        assert numbers(page) == [case.number]
        assert re.search(r'data-source="note"><span class="match-source">Internal note</span>', page.text)


def test_exact_searches_stay_exact_and_fall_back_to_words(client, login, make_case, write):
    login(Role.agent)
    case, _ = make_case(claimant_name="Exact Match", contact_email="Mixed@Example.test", hint_account_id="1234567890")
    other, _ = make_case(claimant_name="Mentions Mixed", contact_email="someone@elsewhere.test")
    write(other.number, message="Write to mixed@example.test please")
    page = client.get(f"/queue?q={case.number}")
    assert numbers(page) == [case.number] and "Best matches first" not in page.text  # exact: the sorted queue
    assert search(client, "Mixed@Example.test") == [case.number]
    assert search(client, "1234567890") == [case.number]
    # no exact match: the words of the address, found in the contact email and in a message
    assert search(client, "mixed@example.test") == [case.number, other.number]


def test_translated_search_page(client, login, make_case, make_agent, write):
    case, _ = make_case(claimant_name="Luca Verdi")
    write(case.number, message="telefono rubato", internal=True)
    agent = make_agent(Role.agent, email="it@example.test")
    with client.application.app_context(), db.transaction(client.application) as session:
        from support.models import Agent
        session.exec(update(Agent).where(Agent.id == agent.id).values(language="it"))
    client.post("/agent/sign-in", data={"email": "it@example.test", "password": "correct horse battery"})
    page = client.get("/queue?q=rubato")
    assert numbers(page) == [case.number]
    assert "Nota interna" in page.text and "Prima le corrispondenze migliori" in page.text


def test_analysis_keeps_receipt_text_for_search(app, client, login, make_case, attach):
    """A real PDF receipt read by the real reader: its text is kept and found; reading it
    again the same way records nothing new."""
    login(Role.agent)
    case, _ = make_case(claimant_name="Receipt Owner")
    receipt = make_receipt(random.Random(7), "it")
    data = receipt_pdf(receipt)
    reading = read(EvidenceKind.receipt, "application/pdf", data, exif=None, max_pixels=50_000_000)
    assert receipt.shop in reading.text and receipt.imei in reading.text
    item = attach(case.number, EvidenceKind.box_photo)
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Evidence).where(Evidence.id == item.id).values(kind=EvidenceKind.receipt))
        record(session, item.id, reading)
    shop_word = max(re.findall(r"[^\W\d_]{4,}", receipt.shop), key=len)
    assert search(client, shop_word) == [case.number]
    with app.app_context(), db.transaction(app) as session:
        events = session.execute(text("SELECT count(*) FROM audit_event")).scalar()
        record(session, item.id, reading)
        assert session.execute(text("SELECT count(*) FROM audit_event")).scalar() == events


@pytest.mark.parametrize("first_window, walk_rows, few_cases", [(1, 0, 0), (2, 2, 0), (1000, 1000, 0), (1, 0, 1000)])
def test_the_newest_matches_are_ranked_however_they_are_found(client, login, make_case, write, monkeypatch,
                                                               first_window, walk_rows, few_cases):
    """Per source only the newest ``CANDIDATES`` matching texts among the filtered cases are
    ranked, whether PostgreSQL reads windows of ids row by row, through the GIN and BRIN
    indexes, both in turn, or takes the texts of a filter's few cases; the messages are
    written out of case order, so the newest message is not the newest case's."""
    from support.review.search import limits, postgres

    monkeypatch.setattr(limits, "CANDIDATES", 3)
    monkeypatch.setattr(postgres, "FIRST_WINDOW", first_window)
    monkeypatch.setattr(postgres, "WALK_ROWS", walk_rows)
    monkeypatch.setattr(postgres, "GIN_ENTRIES_PER_ROW", 8 if walk_rows else 10**9)  # 0: no later window walked
    monkeypatch.setattr(limits, "FEW_CASES", few_cases)
    login(Role.agent)
    made = [make_case(claimant_name=f"Person {n}", status=CaseStatus.closed if n % 3 == 2 else CaseStatus.new)[0]
            for n in range(9)]
    for n in (4, 0, 7, 2, 8, 5, 1):
        write(made[n].number, message="nothing to see")
        write(made[n].number, message=f"an ostrich ate receipt {n}")
        write(made[n].number, message="still nothing")
    picked = lambda *ns: [made[n].number for n in ns]  # noqa: E731 - equal scores: newest case first
    assert search(client, "ostrich") == search(client, "ostr") == picked(8, 5, 1)
    assert search(client, "ostrich", status="open") == picked(7, 1, 0)
    assert search(client, "person") == picked(8, 7, 6)
    assert search(client, "person", status="open") == picked(7, 6, 4)
    assert search(client, "ostrich", status="rejected") == search(client, "zebra") == []


def test_a_busy_process_reads_every_source_itself_and_finds_the_same(app, client, login, make_case, write,
                                                                     monkeypatch):
    """PostgreSQL reads the other sources' later windows on a connection of its own while the
    request reads the messages'; when all ``SIDE_READS`` of the process are taken the request
    reads everything itself (never waiting for a connection), and the ranking is the same."""
    from concurrent.futures import ThreadPoolExecutor

    from support.review.search import limits, postgres

    submitted = []

    class Counting(ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            submitted.append(args)
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(postgres, "_side_readers", Counting(max_workers=postgres.SIDE_READS))
    monkeypatch.setattr(limits, "CANDIDATES", 3)
    monkeypatch.setattr(postgres, "FIRST_WINDOW", 1)
    login(Role.agent)
    made = [make_case(claimant_name=f"Ostrich Keeper {n}" if n % 2 else f"Person {n}")[0] for n in range(8)]
    for n, case in enumerate(made):
        write(case.number, message=f"an ostrich ate receipt {n}", receipt="ostrich feathers" if n % 3 else None)
        write(case.number, message="nothing to see")
    together = search(client, "ostrich")
    with app.app_context(), db.transaction(app) as session:
        on_postgres = session.get_bind().dialect.name == "postgresql"
    assert bool(submitted) == on_postgres
    submitted.clear()
    taken = [postgres._side_reads.acquire(blocking=False) for _ in range(postgres.SIDE_READS)]
    try:
        assert all(taken)
        alone = search(client, "ostrich")
    finally:
        for _ in taken:
            postgres._side_reads.release()
    # the newest three of each source: names 7 5 3, messages 7 6 5, receipts 7 5 4
    assert not submitted and alone == together and len(together) == 5


def test_a_large_window_reads_only_the_matching_rows_inside_it(app, make_case, migration_database_url, monkeypatch):
    """PostgreSQL: one statement reads every source's newest rows backwards on the primary
    key; past them the newest matches come from the GIN bitmap of the words ANDed with the BRIN
    bitmap of the window's ids (migration search_2), and a last window holding every id left
    from the GIN bitmap alone (the BRIN bitmap of a whole table costs more than it spares); a
    walked window reads backwards on the primary key and stops at its last match (no sort)."""
    from sqlalchemy import event

    from support.review import search as full_text
    from support.review.search import postgres

    if not migration_database_url:
        pytest.skip("PostgreSQL's plans")
    monkeypatch.setattr(postgres, "FIRST_WINDOW", 100)  # 500 messages: one in a hundred says "ostrich"
    monkeypatch.setattr(postgres, "WALK_ROWS", 4000)  # so the next window, of about 40,000 ids, is not walked
    case, _ = make_case()
    owner = create_engine(migration_database_url)
    with owner.begin() as connection:  # the owner may ANALYZE
        connection.execute(text(
            "INSERT INTO message (case_id, visibility, author_type, body, requested, created_at) "
            "SELECT :case, 'public', 'claimant', CASE WHEN n % 100 = 0 THEN 'ostrich ' ELSE 'filler ' END || n, '{}', now() "
            "FROM generate_series(1, 200000) AS n"), {"case": case.id})
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE message"))
    owner.dispose()
    with app.app_context(), db.transaction(app) as session:
        statements = []
        listen = lambda conn, cursor, statement, parameters, *args: statements.append((statement, parameters))  # noqa: E731
        event.listen(session.get_bind(), "before_cursor_execute", listen)
        try:
            found = full_text.rank(session, full_text.Terms.parse("ostrich "), [])
            nowhere = full_text.rank(session, full_text.Terms.parse("zzyzxq"), [])
            monkeypatch.setattr(postgres, "WALK_ROWS", 10**6)
            walked = full_text.rank(session, full_text.Terms.parse("ostrich "), [])
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listen)
        assert found.case_ids == walked.case_ids == [case.id] and found.capped  # 2,000 matches, one in a hundred rows
        assert nowhere.case_ids == [] and not nowhere.capped
        plans = {}
        for sql, parameters in statements:
            if "message" in sql and "@@" in sql:
                plan = "\n".join(row[0] for row in session.connection().exec_driver_sql("EXPLAIN " + sql, parameters))
                shape = ("newest" if "newest_message" in sql else "walk" if "IS true" in sql
                         else "gin" if "window_low" in parameters else "rest")
                plans.setdefault(shape, []).append(plan)
        assert {"newest", "gin", "rest", "walk"} <= set(plans), plans
        for plan in plans["walk"]:
            assert "Index Scan Backward using message_pkey" in plan and "Sort" not in plan, plan
        for plan in plans["newest"]:
            assert "Index Scan Backward using message_pkey" in plan and "ix_message_search" not in plan, plan
        for plan in plans["gin"]:
            assert "BitmapAnd" in plan and "ix_message_search" in plan and "ix_message_id_brin" in plan, plan
        for plan in plans["rest"]:
            assert "ix_message_search" in plan and "ix_message_id_brin" not in plan, plan


def test_a_text_that_says_the_words_more_often_or_in_fewer_words_ranks_first(app, client, login, make_case, write):
    """Among the candidates of one source, the words said more often rank higher; on SQLite,
    which ranks its candidates itself (BM25), so does a shorter text (PostgreSQL's
    ``ts_rank(…, 32)`` does not weigh the length: equal scores, newest first)."""
    login(Role.agent)
    once, _ = make_case(claimant_name="Anna Once")
    twice, _ = make_case(claimant_name="Anna Twice")
    wordy, _ = make_case(claimant_name="Anna Wordy")
    write(twice.number, message="platypus seen, platypus again")
    write(once.number, message="one platypus seen again")
    write(wordy.number, message="one platypus " + " ".join(f"filler{n}" for n in range(40)))
    with app.app_context(), db.transaction(app) as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
    expected = [twice.number, once.number, wordy.number] if sqlite else [twice.number, wordy.number, once.number]
    assert search(client, "platypus") == search(client, "platyp") == expected


def test_a_filters_few_cases_find_what_the_index_finds(client, login, make_case, write, monkeypatch):
    """A filter's few cases have their texts read and tested word by word (``Terms.found_in``
    on SQLite, their ids on PostgreSQL): the same cases, in the same order, as the index walked
    newest first, for accents, case, Cyrillic, prefixes, several words and punctuation."""
    from support.review.search import limits

    login(Role.agent)
    texts = ["Niccolò Perché: il telefono è bloccato", "Алёна пишет: ТЕЛЕФОН заблокирован", "phone-box (sealed), phones",
             "mixed@example.test wrote twice: phone phone", "receipt 356938035643809 from ELDORADO", "nothing here"]
    for n, written in enumerate(texts * 2):
        case, _ = make_case(claimant_name=f"Claimant {n}", status=CaseStatus.closed if n % 4 == 3 else CaseStatus.new)
        write(case.number, message=written, receipt=written if n % 2 else None)
    typed = ["perche", "PERCHÉ telefono", "телефон", "алена", "алёна пишет", "phone", "phone ", "phones", "pho", "box sealed",
             "mixed@example.test", "3569380", "eldorado", "claimant", "zzz", "bloccato telefono"]
    few = {q: search(client, q, status="open") for q in typed}
    monkeypatch.setattr(limits, "FEW_CASES", 0)
    assert {q: search(client, q, status="open") for q in typed} == few
    assert few["phone"] and few["телефон"] and not few["алена"] and few["phones"] != few["phone "]


def test_prefix_indexes_find_what_the_search_found_before_them(app, client, login, make_case, write):
    """SQLite: migration search_3 remakes the FTS5 tables with prefix indexes; every search,
    prefixes above all, finds the same cases before and after it, and the triggers keep the
    remade tables in step with their content."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with app.app_context(), db.transaction(app) as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("FTS5 prefix indexes")
    login(Role.agent)
    made = [make_case(claimant_name=name)[0] for name in ("Giulia Moretti", "Семён Кузнецов", "Anna Moreau")]
    for case, words in zip(made, ("telefono bloccato", "телефон заблокирован", "phone locked, telephone lost")):
        write(case.number, message=words, receipt=f"Shop {words}")
    typed = ["mor", "moret", "moretti", "семён", "кузн", "tel", "tele", "telef", "telefo", "телеф", "телефон", "phon",
             "blocc", "locked", "shop", "sho", "zzz"]
    after = {q: search(client, q) for q in typed}
    config = AlembicConfig()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with db.engine(app).connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "search_3-1")
        connection.commit()
    assert {q: search(client, q) for q in typed} == after
    db.upgrade(app)
    assert {q: search(client, q) for q in typed} == after and after["telef"] and after["телеф"]
    with app.app_context(), db.transaction(app) as session:
        assert "prefix='3 4 5 6 7 8'" in session.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'message_search'")).scalar()
    write(made[0].number, message="nuovo telefonino", claimant_name="Giulia Morettini")
    assert search(client, "telefonin") == search(client, "morettin") == [made[0].number]
    with app.app_context(), db.transaction(app) as session:
        for index in ("case_search", "message_search", "evidence_search"):
            session.execute(text(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)"))


def test_an_excerpt_marks_the_words_found_whatever_folding_does_to_the_text():
    """The excerpt folds a text once and reads each word's folded form at its place; a letter
    whose lower case is longer (``İ``) shifts those places, and the words are folded one by one."""
    from support.review.search import Terms, excerpt

    terms = Terms.parse("perche telef")
    for before in ("", "İzmir İİİ "):
        written = f"{before}Niccolò PERCHÉ <b>il</b> telefono è bloccato"
        assert str(excerpt(written, terms)) == (
            f"{before}Niccolò <mark>PERCHÉ</mark> &lt;b&gt;il&lt;/b&gt; <mark>telefono</mark> è bloccato")
    assert excerpt("nothing of the sort", terms) is None
