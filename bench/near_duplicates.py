"""Near-duplicate look-up at scale: seed N stored pictures, then time ``near_duplicates.near``.

    python bench/near_duplicates.py --pictures 1000000 [--database-url URL] [--lookups 300]

Seeds a fresh schema with 10,000 cases and N evidence rows with random 64-bit hashes and
their four index chunks each, through the fast paths ``bench/queue.py`` uses (SQLite
executemany, PostgreSQL COPY, indexes built after the load, then ANALYZE). Among them
are planted near-duplicates: copies of stored hashes with 1 to ``THRESHOLD`` bits
flipped, in other cases. Then times look-ups, each in its own transaction as a request
makes it: the near-duplicate look-up of a planted copy (it must find its original) and of
a random hash, next to a baseline in the same run, an evidence row by primary key.
Prints a table and ends with one JSON line (``meets_target``: look-up p95 < 20 ms).
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# bench/queue.py is in this folder: keep the folder off sys.path so the stdlib ``queue`` stays importable
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import func, select, text  # noqa: E402

from support import agents, audit, create_app, db  # noqa: E402
from support.evidence import near_duplicates  # noqa: E402
from support.models import Case, Evidence, PictureHashChunk, Role  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_queue", HERE / "queue.py")
bench_queue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_queue)

CASES = 10_000
BATCH = 20_000
TARGET_P95_MS = 20
#: share of each kind among stored pictures
KINDS = ["receipt"] * 4 + ["box_photo"] * 3 + ["device_photo", "imei_screen", "id_document"]


def _flipped(bits: int, count: int, rng: random.Random) -> int:
    for position in rng.sample(range(64), count):
        bits ^= 1 << position
    return bits


def picture_rows(start: int, count: int, rng: random.Random, now: datetime, planted: dict[int, int]):
    """Evidence rows ``start``.. with random hashes, except the planted copies (id -> hash)."""
    rows = []
    for number in range(start, start + count):
        phash = f"{planted.get(number, rng.getrandbits(64)):016x}"
        rows.append({"id": number, "case_id": number % CASES + 1, "kind": "receipt" if number in planted else rng.choice(KINDS),
                     "sha256": f"{number:064x}", "media_type": "image/jpeg", "size": 250_000, "width": 3000,
                     "height": 4000, "original_name": f"photo{number}.jpg", "phash": phash, "exif": "{}",
                     "extracted": "{}", "uploaded_by": "claimant", "created_at": now})
    return rows


def chunk_rows(pictures: list[dict]) -> list[dict]:
    return [{"evidence_id": row["id"], "chunk_no": number, "chunk_value": value}
            for row in pictures for number, value in near_duplicates.chunks(row["phash"])]


def plant(pictures: int, count: int, rng: random.Random) -> tuple[dict[int, int], dict[int, int]]:
    """Which rows are near-duplicates of which: (copy id -> its hash, copy id -> original id).
    An original's hash is drawn from the same generator the load uses, so it is drawn here
    first and planted too."""
    ids = rng.sample(range(1, pictures + 1), 2 * count)
    hashes, originals = {}, {}
    for original, copy in zip(ids[::2], ids[1::2]):
        bits = rng.getrandbits(64)
        hashes[original] = bits
        hashes[copy] = _flipped(bits, 1 + len(originals) % near_duplicates.THRESHOLD, rng)
        originals[copy] = original
    return hashes, originals


def seed(app, pictures: int, planted: dict[int, int]) -> float:
    started = time.perf_counter()
    with db.transaction(app) as session:
        agent = agents.create_agent(session, email="bench@example.test", name="Bench Agent", role=Role.agent,
                                    password="bench-agent-password", actor=audit.Actor("cli", None, "bench"))
    rng, now = random.Random(5), datetime.now(timezone.utc)
    with db.engine(app).begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text('ALTER TABLE "case" DISABLE TRIGGER case_status_count_insert_delete'))
        bench_queue._load(connection, Case.__table__, bench_queue.case_rows(1, CASES, [agent.id], rng, now))
        if postgres:
            connection.execute(text('ALTER TABLE "case" ENABLE TRIGGER case_status_count_insert_delete'))
        tables = (Evidence.__table__, PictureHashChunk.__table__)
        for table in tables:
            for index in table.indexes:
                index.drop(connection)
        for start in range(1, pictures + 1, BATCH):
            rows = picture_rows(start, min(BATCH, pictures + 1 - start), rng, now, planted)
            bench_queue._load(connection, Evidence.__table__, rows)
            bench_queue._load(connection, PictureHashChunk.__table__, chunk_rows(rows))
            print(f"\r  loaded {min(start + BATCH - 1, pictures):,} pictures", end="", file=sys.stderr, flush=True)
        print("; building indexes", file=sys.stderr, flush=True)
        for table in tables:
            for index in table.indexes:
                index.create(connection)
        if postgres:
            connection.execute(text("SELECT setval(pg_get_serial_sequence('evidence', 'id'), :n)"), {"n": pictures})
    with db.engine(app).connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - started


def timed(app, look_up, queries: list) -> list[float]:
    """Milliseconds per look-up, each in its own reading transaction, after a warm-up."""
    for query in queries[:20]:
        with db.transaction(app) as session:
            look_up(session, query)
    times = []
    for query in queries:
        started = time.perf_counter()
        with db.transaction(app) as session:
            look_up(session, query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def figures(times: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
            "max_ms": round(max(times), 2), "n": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=200, help="near-duplicate pairs planted among them")
    parser.add_argument("--lookups", type=int, default=300, help="timed look-ups per scenario")
    parser.add_argument("--database-url", help="an EMPTY database (default: a fresh SQLite file in bench/out/)")
    args = parser.parse_args()
    (HERE / "out").mkdir(exist_ok=True)
    instance = tempfile.mkdtemp(prefix="bench-neardup-", dir=HERE / "out")
    url = args.database_url or f"sqlite:///{instance}/pictures.sqlite"
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url, "INSTANCE_PATH": instance,
                      "UPLOAD_DIR": f"{instance}/uploads", "MAIL_OUTBOX_DIR": f"{instance}/outbox"})
    db.upgrade(app)
    with db.engine(app).connect() as connection:
        if connection.execute(select(func.count()).select_from(Evidence.__table__)).scalar():
            sys.exit("the database already has evidence: give an empty one")
    rng = random.Random(6)
    planted, originals = plant(args.pictures, args.planted, rng)
    seconds = seed(app, args.pictures, planted)
    dialect = db.engine(app).dialect.name
    print(f"seeded {args.pictures:,} pictures ({len(originals)} planted near-duplicate pairs) in {seconds:.1f} s ({dialect})")

    copies = list(originals)
    found = {}
    with db.transaction(app) as session:
        for copy in copies:
            found[copy] = {match.evidence_id for match in near_duplicates.near(session, f"{planted[copy]:016x}")}
    missed = [copy for copy in copies if originals[copy] not in found[copy]]
    candidates = statistics.mean(len(found[copy]) for copy in copies)
    planted_queries = [f"{planted[rng.choice(copies)]:016x}" for _ in range(args.lookups)]
    random_queries = [f"{rng.getrandbits(64):016x}" for _ in range(args.lookups)]
    ids = [rng.randrange(1, args.pictures + 1) for _ in range(args.lookups)]
    results = {
        "baseline: evidence by primary key": figures(timed(app, lambda session, key: session.get(Evidence, key), ids)),
        "near-duplicate of a planted copy": figures(timed(app, near_duplicates.near, planted_queries)),
        "near-duplicate of a random hash": figures(timed(app, near_duplicates.near, random_queries)),
    }
    with db.transaction(app) as session:
        per_bucket = session.exec(select(func.count()).select_from(PictureHashChunk)).one()[0] / 4 / 65536
    print(f"{'look-up':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'n':>5}")
    for name, entry in results.items():
        print(f"{name:<36} {entry['p50_ms']:>8.2f} {entry['p95_ms']:>8.2f} {entry['max_ms']:>8.2f} {entry['n']:>5}")
    worst = max(results[name]["p95_ms"] for name in results if name.startswith("near"))
    print(f"planted near-duplicates found: {len(copies) - len(missed)} of {len(copies)}; "
          f"{per_bucket:.1f} pictures per chunk bucket; worst look-up p95 {worst:.2f} ms (target < {TARGET_P95_MS})")
    print(json.dumps({"bench": "near_duplicates", "database": dialect, "pictures": args.pictures,
                      "seed_seconds": round(seconds, 1), "planted": len(copies), "missed": len(missed),
                      "worst_p95_ms": worst, "meets_target": worst < TARGET_P95_MS and not missed, "figures": results}))
    db.engine(app).dispose()
    shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
