"""Full-text search speed at scale: N cases, five messages each, a receipt for every fourth.

    python bench/search.py --cases 1000000 [--database-url URL] [--requests 40]

Seeds the cases the way ``bench/queue.py`` does (its ``seed``), with claimant names drawn
from Russian, Italian and English names, then 5 messages per case and a receipt's text for
every fourth case through the driver's fastest path (PostgreSQL ``COPY`` with the GIN and
BRIN indexes built after the load, the cases named in the server first; SQLite ``executemany`` in big transactions with the FTS5 insert triggers
dropped, then each FTS5 index rebuilt in one pass and the triggers put back). Then serves ``/queue?q=…`` in-process through the whole Flask stack, signed in as a
supervisor, for realistic searches (a common word, a rare name, a Cyrillic name, prefixes,
two words, a shop on receipts, a word found nowhere, filters, a second page) next to the
trivial page (``/`` for the same agent) in the same run, interleaved request by request
(× trivial compares the two under the same load). Prints a table and one JSON line.
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import func, select, text  # noqa: E402

from support import create_app, db  # noqa: E402
from support.models import Case  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_queue", HERE / "queue.py")
bench_queue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_queue)

BATCH = 50_000
MESSAGES_PER_CASE = 5
RECEIPT_EVERY = 4
RARE_SURNAME = "Quagliarello"  # three cases in the whole desk
FIRST = {"ru": ["Алёна", "Иван", "Мария", "Дмитрий", "Ольга", "Сергей", "Анна", "Павел", "Екатерина", "Андрей"],
         "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Niccolò", "Sara", "Matteo", "Elena", "Andrea"],
         "en": ["Emma", "James", "Olivia", "Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "George"]}
LAST = {"ru": ["Иванова", "Кузнецова", "Смирнов", "Попов", "Васильева", "Петров", "Соколова", "Михайлов", "Новикова",
               "Фёдоров", "Морозова", "Волков", "Алексеева", "Лебедев", "Семёнова", "Егоров", "Павлова", "Козлов"],
        "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
               "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti"],
        "en": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
               "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke"]}
SENTENCES = {
    "en": ["I cannot sign in to my account since last week", "The phone was bought in a shop, the receipt is attached",
           "Please unlock my phone, it is locked after too many passwords", "I lost the email and the phone number",
           "Here is the photo of the box with the IMEI label", "The seller did not sign out of his account",
           "Thank you for your help", "When will my case be reviewed", "I attach the SIM card contract"],
    "ru": ["Не могу войти в аккаунт с прошлой недели", "Телефон куплен в магазине, чек прикладываю",
           "Пожалуйста, разблокируйте телефон, он заблокирован после ввода паролей", "Я потерял почту и номер телефона",
           "Вот фото коробки с наклейкой IMEI", "Продавец не вышел из своего аккаунта", "Спасибо за помощь",
           "Когда рассмотрят моё обращение", "Прикладываю договор на SIM-карту"],
    "it": ["Non riesco ad accedere al mio account dalla settimana scorsa", "Il telefono è stato comprato in negozio, allego lo scontrino",
           "Per favore sbloccate il telefono, è bloccato dopo troppe password", "Ho perso l'email e il numero di telefono",
           "Ecco la foto della scatola con l'etichetta IMEI", "Il venditore non è uscito dal suo account",
           "Grazie per l'aiuto", "Quando sarà esaminata la mia pratica", "Allego il contratto della SIM"],
}
AGENT_SENTENCES = ["Please send a photo of the phone box showing both IMEI numbers",
                   "We need the purchase receipt with the shop name and date", "Internal: the receipt looks edited",
                   "Checked the directory: the device is bound to another account", "Waiting for the SIM proof"]
SHOPS = ["Eldorado", "М.Видео", "DNS", "MediaWorld", "Unieuro", "Euronics", "Currys", "Argos", "Ситилинк", "Trony"]
#: rarely used filler words: a vocabulary as large as a real desk's
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vo", "zi", "pel", "dor", "sha", "qu", "ner", "bi", "tus", "gra", "fen"]


def filler(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(2, 5)))


def name_for(number: int, rng: random.Random) -> str:
    language = ("en", "ru", "it")[number % 3]
    last = RARE_SURNAME if number % 333_331 == 7 else rng.choice(LAST[language])
    return f"{rng.choice(FIRST[language])} {last}"


def with_names(case_rows):
    """``bench_queue.case_rows`` with people's names instead of "Claimant N"."""

    def rows(start, count, agent_ids, rng, now):
        made = case_rows(start, count, agent_ids, rng, now)
        for row in made:
            row["claimant_name"] = name_for(row["id"], rng)
        return made

    return rows


def name_in_server(app) -> None:
    """PostgreSQL: ``bench_queue.seed`` generates the cases in the server as "Claimant N", past
    ``with_names``; name them there as ``name_for`` does (by language, the rare surname in the
    same three cases), then compact the table the update doubled."""
    with db.engine(app).begin() as connection:
        if connection.dialect.name != "postgresql":
            return
        connection.execute(text("SELECT setseed(0.5)"))
        names = {}
        for position, language in enumerate(("en", "ru", "it")):
            names[f"first_{language}"], names[f"last_{language}"] = FIRST[language], LAST[language]
        drawn = " ".join(
            f"WHEN {position} THEN (CAST(:first_{language} AS text[]))[1 + floor(random() * {len(FIRST[language])})::int]"
            f" || ' ' || CASE WHEN id % 333331 = 7 THEN :rare"
            f" ELSE (CAST(:last_{language} AS text[]))[1 + floor(random() * {len(LAST[language])})::int] END"
            for position, language in enumerate(("en", "ru", "it")))
        connection.execute(text(f'UPDATE "case" SET claimant_name = CASE id % 3 {drawn} END'),
                           {**names, "rare": RARE_SURNAME})
    with db.engine(app).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text('VACUUM FULL "case"'))


def message_rows(cases: list[tuple], first_id: int, rng: random.Random) -> list[dict]:
    rows = []
    for case_id, language, name, created in cases:
        for n in range(MESSAGES_PER_CASE):
            agent = n % 2 == 1
            if agent:
                body = f"{rng.choice(AGENT_SENTENCES)}. {filler(rng)} {filler(rng)}"
            else:
                body = f"{rng.choice(SENTENCES[language])}. {' '.join(filler(rng) for _ in range(rng.randrange(3, 9)))}"
                if rng.random() < 0.3:
                    body += f". {name}"
            rows.append({"id": first_id + len(rows), "case_id": case_id, "visibility": "internal" if agent and n == 3 else "public",
                         "author_type": "agent" if agent else "claimant", "author_agent_id": None, "body": body,
                         "requested": {}, "created_at": created + timedelta(hours=n)})
    return rows


def receipt_rows(cases: list[tuple], first_id: int, rng: random.Random) -> list[dict]:
    rows = []
    for case_id, language, _name, created in cases:
        if case_id % RECEIPT_EVERY:
            continue
        title = {"en": "RECEIPT", "ru": "Кассовый чек", "it": "Scontrino fiscale"}[language]
        body = "86" + f"{case_id:013d}"[:13]
        read_text = (f"{rng.choice(SHOPS)}\n{title}\nRedmi Note 13 Pro 8/256 {rng.randrange(150, 400)},00\n"
                     f"IMEI {body}\nS/N {filler(rng).upper()}{case_id}\n{filler(rng)} {filler(rng)}")
        rows.append({"id": first_id + len(rows), "case_id": case_id, "kind": "receipt", "sha256": f"{case_id:064x}",
                     "media_type": "image/jpeg", "size": 123_456, "original_name": "receipt.jpg", "exif": {},
                     "extracted": {}, "uploaded_by": "claimant", "created_at": created, "read_text": read_text})
    return rows


def load(connection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{name}"' for name in columns)
        with raw.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(value) if isinstance(value, (dict, list)) else value for value in row.values()])
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})',
                        [tuple(json.dumps(value) if isinstance(value, (dict, list)) else bench_queue._sqlite_value(value)
                               for value in row.values()) for row in rows])


SEARCH_INDEXES = {"case": "ix_case_search", "message": "ix_message_search", "evidence": "ix_evidence_search"}
#: PostgreSQL: the BRIN indexes of the ids (migration search_2), built after the load so every range is summarized
ID_INDEXES = {"case": "ix_case_id_brin", "message": "ix_message_id_brin", "evidence": "ix_evidence_id_brin"}
FTS_TABLES = ("case_search", "message_search", "evidence_search")


def pause_fts(app) -> list[str]:
    """SQLite: drop the FTS5 insert triggers for the load (``resume_fts`` rebuilds each index in
    one pass, then puts them back); returns their SQL."""
    with db.engine(app).begin() as connection:
        if connection.dialect.name != "sqlite":
            return []
        names = [f"{table}_insert" for table in FTS_TABLES]
        triggers = [connection.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
                                       {"name": name}).scalar_one() for name in names]
        for name in names:
            connection.execute(text(f"DROP TRIGGER {name}"))
    return triggers


def resume_fts(app, triggers: list[str]) -> None:
    if not triggers:
        return
    with db.engine(app).begin() as connection:
        for table in FTS_TABLES:
            connection.execute(text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))
        for trigger in triggers:
            connection.execute(text(trigger))


def seed_texts(app, triggers: list[str]) -> tuple[int, int]:
    """Messages and receipts for every case (on PostgreSQL the cases named first, ``name_in_server``);
    the search indexes are built after the load (PostgreSQL GIN and BRIN, SQLite FTS5 ``rebuild``)."""
    rng = random.Random(5)
    with db.engine(app).begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            for index in [*SEARCH_INDEXES.values(), *ID_INDEXES.values()]:
                connection.execute(text(f"DROP INDEX {index}"))
        last = connection.execute(select(func.max(Case.id))).scalar()
    name_in_server(app)
    messages = receipts = 0
    for start in range(1, last + 1, BATCH // MESSAGES_PER_CASE):
        with db.engine(app).begin() as connection:
            cases = [(row.id, row.language, row.claimant_name, row.created_at) for row in connection.execute(
                select(Case.id, Case.language, Case.claimant_name, Case.created_at)
                .where(Case.id >= start, Case.id < start + BATCH // MESSAGES_PER_CASE).order_by(Case.id))]
            if not cases:
                continue
            made = message_rows(cases, messages + 1, rng)
            load(connection, "message", made)
            messages += len(made)
            made = receipt_rows(cases, receipts + 1, rng)
            if made:
                load(connection, "evidence", made)
                receipts += len(made)
        print(f"\r  {messages:,} messages, {receipts:,} receipts", end="", file=sys.stderr, flush=True)
    print("; indexing", file=sys.stderr, flush=True)
    resume_fts(app, triggers)
    with db.engine(app).begin() as connection:
        if postgres:
            connection.execute(text("SET maintenance_work_mem = '512MB'"))
            for table, index in SEARCH_INDEXES.items():
                connection.execute(text(f'CREATE INDEX {index} ON "{table}" USING gin (search_vector)'))
            for table, index in ID_INDEXES.items():
                connection.execute(text(f'CREATE INDEX {index} ON "{table}" USING brin (id) WITH (autosummarize = on)'))
            for table in ("message", "evidence"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                        f"(SELECT max(id) FROM \"{table}\"))"))
    # planner statistics, and on PostgreSQL the hint bits and visibility map, as autovacuum keeps them
    with db.engine(app).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
    return messages, receipts


def scenarios(sample_number: str) -> dict[str, str]:
    return {
        "common word (en)": "/queue?q=phone",
        "common word (ru)": "/queue?q=телефон",
        "common word, page 2": "/queue?q=phone&after=r50",
        "common word, open only": "/queue?q=telefono&status=open",
        "common word, mine": "/queue?q=receipt&assignee=me",
        "rare name": f"/queue?q={RARE_SURNAME}",
        "Cyrillic name": "/queue?q=Кузнецова",
        "Cyrillic first + last": "/queue?q=Алёна Кузнецова",
        "prefix (Latin)": "/queue?q=Moret",
        "prefix (Cyrillic)": "/queue?q=Семён",
        "prefix of a common word": "/queue?q=tele",
        "two words": "/queue?q=receipt attached",
        "shop on receipts": "/queue?q=Eldorado",
        "word found nowhere": "/queue?q=zzyzxq",
        "exact number": f"/queue?q={sample_number}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an EMPTY database (default: a fresh SQLite file in bench/out/)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the seeded SQLite file in bench/out/")
    parser.add_argument("--reuse", metavar="URL", help="time a database an earlier --keep run seeded (no seeding)")
    args = parser.parse_args()
    bench_queue.OUT.mkdir(exist_ok=True)
    instance = tempfile.mkdtemp(prefix="bench-search-", dir=bench_queue.OUT)
    url = args.reuse or args.database_url or f"sqlite:///{instance}/search.sqlite"
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url, "INSTANCE_PATH": instance,
                      "UPLOAD_DIR": f"{instance}/uploads", "MAIL_OUTBOX_DIR": f"{instance}/outbox",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    db.upgrade(app)
    dialect = db.engine(app).dialect.name
    with db.engine(app).connect() as connection:
        counted = connection.execute(select(func.count()).select_from(Case.__table__)).scalar()
    if args.reuse:
        with db.engine(app).connect() as connection:
            messages = connection.execute(text("SELECT count(*) FROM message")).scalar()
            receipts = connection.execute(text("SELECT count(*) FROM evidence")).scalar()
        args.cases, seconds = counted, 0
    elif counted:
        sys.exit("the database already has cases: give an empty one")
    else:
        started = time.perf_counter()
        bench_queue.case_rows = with_names(bench_queue.case_rows)
        triggers = pause_fts(app)
        bench_queue.seed(app, args.cases)
        print(f"  cases seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        messages, receipts = seed_texts(app, triggers)
        seconds = time.perf_counter() - started
    print(f"{args.cases:,} cases, {messages:,} messages, {receipts:,} receipt texts, seeded in {seconds:.0f} s ({dialect})")

    client = app.test_client()
    response = client.post("/agent/sign-in", data={"email": "bench0@example.test", "password": bench_queue.PASSWORD})
    assert response.status_code == 302, "bench agent could not sign in"
    gc.freeze()  # as the server does once a worker has loaded the app (support/ops/gunicorn.py)
    with db.engine(app).connect() as connection:
        sample_number = connection.execute(select(Case.number).order_by(Case.id.desc()).limit(1)).scalar()
    trivial, _ = bench_queue.timed(client, "/", args.requests)
    figures = {"trivial": {"p50_ms": round(statistics.median(trivial), 2), "p95_ms": round(bench_queue.p95(trivial), 2)}}
    print(f"{'search':<26} {'p50 ms':>8} {'p95 ms':>8} {'x trivial':>10} {'rows':>5}")
    print(f"{'/ signed in (trivial page)':<26} {figures['trivial']['p50_ms']:>8.2f} {figures['trivial']['p95_ms']:>8.2f}")
    for name, path in scenarios(sample_number).items():
        # the trivial page interleaved request by request: the same load at the same moments
        times, beside = bench_queue.timed(client, path, args.requests, beside="/")
        rows = client.get(path).text.count('data-number="')
        entry = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(bench_queue.p95(times), 2),
                 "x_trivial": round(bench_queue.p95(times) / bench_queue.p95(beside), 1), "rows": rows}
        figures[name] = entry
        print(f"{name:<26} {entry['p50_ms']:>8.2f} {entry['p95_ms']:>8.2f} {entry['x_trivial']:>10.1f} {rows:>5}", flush=True)
    worst = max(entry["p95_ms"] for name, entry in figures.items() if name != "trivial")
    print(f"worst p95 {worst:.1f} ms (target <= 50)")
    print(json.dumps({"bench": "search", "database": dialect, "cases": args.cases, "messages": messages,
                      "receipts": receipts, "seed_seconds": round(seconds), "worst_p95_ms": worst,
                      "meets_target": worst <= 50, "figures": figures}, ensure_ascii=False))
    db.engine(app).dispose()
    if not args.keep:
        shutil.rmtree(instance, ignore_errors=True)
    elif not args.reuse:
        print(f"kept: --reuse {url}", file=sys.stderr)


if __name__ == "__main__":
    main()
