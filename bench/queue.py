"""Queue speed at scale: seed N cases, then time the queue next to a trivial page.

    python bench/queue.py --cases 1000000 [--database-url URL] [--requests 60]

Seeds with bulk inserts (executemany in batches) into a fresh schema, then serves the
queue in-process through the app's WSGI stack, signed in as a real supervisor (its navigation counts the flagged cases on every page), for the
common filters, sorts, a keyset page and every kind of search, next to two baselines in
the same run: ``/healthz`` (bare framework) and ``/`` for the same signed-in agent (the
trivial page: same session, sign-in and layout, no queue). "Server time" is the wall time of one request
through the whole Flask stack (session, login, queries, template), without network.
Prints a table and ends with one JSON line. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# this file is named queue.py: keep its folder off sys.path so the stdlib ``queue`` stays importable
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from support import agents, audit, create_app, db  # noqa: E402
from support.imei import luhn_digit  # noqa: E402
from support.models import Agent, Case, CaseKind, CaseStatus, Role  # noqa: E402

OUT = HERE / "out"
PASSWORD = "bench-agent-password"
BATCH = 20_000
#: one open case in about a thousand carries an owner's objection
FLAGGED_EVERY = 997
#: share of each status in a desk that has been running for two years
STATUS_MIX = [(CaseStatus.closed, 70), (CaseStatus.executed, 4), (CaseStatus.rejected, 5), (CaseStatus.approved, 1),
              (CaseStatus.waiting_on_claimant, 5), (CaseStatus.in_review, 5), (CaseStatus.new, 8),
              (CaseStatus.submitted, 2)]
ASSIGNED = {CaseStatus.in_review, CaseStatus.waiting_on_claimant, CaseStatus.approved, CaseStatus.executed,
            CaseStatus.rejected, CaseStatus.closed}
#: device models as claimants type them; one case in five left it empty
MODELS = ("Redmi 12C", "Redmi Note 13 Pro", "POCO X6", "Xiaomi 14", None)
SLA_HOURS = {CaseKind.locked_account: 24, CaseKind.lost_credentials: 72, CaseKind.device_unbind: 120}


def imei_for(number: int) -> str:
    body = f"86{number:012d}"
    return body + luhn_digit(body)


def case_rows(start: int, count: int, agent_ids: list[int], rng: random.Random, now: datetime):
    statuses = [status for status, weight in STATUS_MIX for _ in range(weight)]
    kinds = list(CaseKind)
    rows = []
    for number in range(start, start + count):
        status = rng.choice(statuses)
        kind = kinds[number % 3]
        created = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        due = created + timedelta(hours=SLA_HOURS[kind])
        open_ = status in (CaseStatus.new, CaseStatus.in_review)
        flagged = open_ and number % FLAGGED_EVERY == 0
        rows.append({
            "id": number, "number": f"RD-{created.year}-{number:06d}", "kind": kind.value, "status": status.value,
            "claimant_name": f"Claimant {number}", "contact_email": f"claimant{number}@example.test",
            "contact_confirmed_at": created, "language": ("en", "ru", "it")[number % 3], "consent_at": created,
            "hint_account_id": str(1_000_000_000 + number) if number % 2 else None,
            "hint_email": None, "hint_phone": None, "imei1": imei_for(number),
            "imei2": imei_for(number + 500_000_000) if number % 4 == 0 else None, "serial": None, "model": MODELS[number % len(MODELS)],
            "purchase_date": None, "shop": None, "sla_due_at": due, "sla_breached": open_ and due < now,
            "assignee_id": rng.choice(agent_ids) if status in ASSIGNED else None, "version": 1,
            "risk_score": rng.randrange(0, 101), "checks": [], "flagged": flagged, "objected_at": created if flagged else None,
            "flag_reason": "The account owner objected to the force-unbind (\"this was not me\")." if flagged else None,
            "decision": None, "decision_reason": None, "decision_note": None, "decided_by_id": None,
            "decided_at": None, "token_hash": hashlib.sha256(str(number).encode()).hexdigest(),
            "waiting_since": created if status == CaseStatus.waiting_on_claimant else None, "reminded_at": None,
            "created_at": created, "updated_at": created,
            "closed_at": created + timedelta(days=3) if status == CaseStatus.closed else None,
        })
    return rows


def _sqlite_value(value):
    """What SQLAlchemy would store on SQLite: naive UTC text, enum values, JSON text."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _load(connection, table, rows: list[dict]) -> None:
    """One batch through the driver's fastest path: COPY on PostgreSQL, executemany on SQLite."""
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{name}"' for name in columns)
        with raw.cursor().copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(value) if isinstance(value, list) else value for value in row.values()])
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({marks})',
                        [tuple(_sqlite_value(value) for value in row.values()) for row in rows])


def seed(app, cases: int) -> tuple[float, list[int]]:
    """Fresh schema, a handful of agents, then ``cases`` rows; returns (seconds, agent ids).

    The bulk-load recipe: drop the case table's indexes, load, build them again (one
    sort per index beats a million random inserts into each). On SQLite the status
    counter's triggers stay on. On PostgreSQL a million updates of the same counter row in
    one transaction pile up row versions, so the load switches the trigger off and counts
    once at the end, in the same transaction (the app's writers change one case at a time).
    """
    started = time.perf_counter()
    actor = audit.Actor("cli", None, "bench")
    with db.transaction(app) as session:
        # bench0 (signed in below) is a supervisor: every page it loads also counts the flagged cases for its navigation
        ids = [agents.create_agent(session, email=f"bench{n}@example.test", name=f"Bench Agent {n}",
                                   role=Role.supervisor if n == 0 else Role.agent, password=PASSWORD, actor=actor).id
               for n in range(8)]
    rng, now = random.Random(4), datetime.now(timezone.utc)
    table = Case.__table__
    with db.engine(app).begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        for index in table.indexes:
            index.drop(connection)
        if postgres:
            connection.execute(text('ALTER TABLE "case" DISABLE TRIGGER case_status_count_insert_delete'))
        for start in range(1, cases + 1, BATCH):
            _load(connection, table, case_rows(start, min(BATCH, cases + 1 - start), ids, rng, now))
            print(f"\r  loaded {min(start + BATCH - 1, cases):,} cases", end="", file=sys.stderr, flush=True)
        print("; building indexes", file=sys.stderr, flush=True)
        for index in table.indexes:
            index.create(connection)
        if postgres:
            connection.execute(text('ALTER TABLE "case" ENABLE TRIGGER case_status_count_insert_delete'))
            connection.execute(text('DELETE FROM case_status_count'))
            connection.execute(text('INSERT INTO case_status_count (status, count) '
                                    'SELECT status, COUNT(*) FROM "case" GROUP BY status'))
            connection.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), :n)"), {"n": cases})
    with db.engine(app).connect() as connection:  # planner statistics, as `PRAGMA optimize` / autovacuum keep them
        connection.execute(text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - started, ids


def scenarios(sample: dict) -> dict[str, str]:
    return {
        "open, SLA due (default)": "/queue",
        "status new": "/queue?status=new",
        "in review, mine": "/queue?status=in_review&assignee=me",
        "mine, any open": "/queue?assignee=me",
        "unassigned": "/queue?assignee=unassigned",
        "SLA breached": "/queue?breached=1",
        "flagged": "/queue?flagged=1",
        "flagged, sort risk": "/queue?flagged=1&sort=risk",
        "kind device_unbind": "/queue?kind=device_unbind",
        "sort risk": "/queue?sort=risk",
        "sort age": "/queue?sort=age",
        "sort claimant": "/queue?sort=name",
        "sort claimant, desc": "/queue?sort=name&dir=desc",
        "sort model": "/queue?sort=model",
        "sort model, desc": "/queue?sort=model&dir=desc",
        "sort SLA, desc": "/queue?dir=desc",
        "closed, sort claimant": "/queue?status=closed&sort=name",
        "all, sort model": "/queue?status=all&sort=model",
        "new, sort model, desc": "/queue?status=new&sort=model&dir=desc",
        "closed, SLA due": "/queue?status=closed",
        "next keyset page": "NEXT",
        "search number": f"/queue?q={sample['number']}",
        "search IMEI": f"/queue?q={sample['imei1']}",
        "search email": f"/queue?q={sample['contact_email']}",
        "search account ID": f"/queue?q={sample['hint_account_id']}",
    }


def timed(client, url: str, requests: int) -> list[float]:
    for _ in range(10):  # warm: the pages this scenario reads are in the cache, as on a busy desk
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an EMPTY database (default: a fresh SQLite file in bench/out/)")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the seeded SQLite file in bench/out/")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    instance = tempfile.mkdtemp(prefix="bench-queue-", dir=OUT)
    url = args.database_url or f"sqlite:///{instance}/queue.sqlite"
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url, "INSTANCE_PATH": instance,
                      "UPLOAD_DIR": f"{instance}/uploads", "MAIL_OUTBOX_DIR": f"{instance}/outbox",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    db.upgrade(app)
    with db.engine(app).connect() as connection:
        if connection.execute(select(func.count()).select_from(Case.__table__)).scalar():
            sys.exit("the database already has cases: give an empty one")
    seconds, agent_ids = seed(app, args.cases)
    print(f"seeded {args.cases:,} cases in {seconds:.1f} s ({db.engine(app).dialect.name})")

    client = app.test_client()
    response = client.post("/agent/sign-in", data={"email": "bench0@example.test", "password": PASSWORD})
    assert response.status_code == 302, "bench agent could not sign in"
    with db.transaction(app) as session:
        sample = session.execute(select(Case.number, Case.imei1, Case.contact_email, Case.hint_account_id)
                                 .where(Case.hint_account_id.is_not(None)).order_by(Case.id.desc()).limit(1)).one()._asdict()
    first_page = client.get("/queue?status=all").text  # every case: a second page exists even in a tiny run
    next_url = "/queue" + re.search(r'rel="next" href="([^"]+)"', first_page).group(1).replace("&amp;", "&")
    # Two baselines from the same app in the same run: the bare framework (/healthz: no
    # session, no template) and the trivial page (/ for the same signed-in agent: session,
    # sign-in, translated layout, no queue). The target compares the queue with the latter.
    baselines = {"healthz": timed(client, "/healthz", args.requests), "trivial": timed(client, "/", args.requests)}
    figures = {name: {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95(times), 2)}
               for name, times in baselines.items()}
    print(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'x trivial':>10} {'x healthz':>10} {'rows':>5}")
    print(f"{'/healthz (bare framework)':<26} {figures['healthz']['p50_ms']:>8.2f} {figures['healthz']['p95_ms']:>8.2f}")
    print(f"{'/ signed in (trivial page)':<26} {figures['trivial']['p50_ms']:>8.2f} {figures['trivial']['p95_ms']:>8.2f}")
    for name, path in scenarios(sample).items():
        path = next_url if path == "NEXT" else path
        times = timed(client, path, args.requests)
        rows = client.get(path).text.count('data-number="')
        entry = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95(times), 2),
                 "x_trivial": round(p95(times) / figures["trivial"]["p95_ms"], 1),
                 "x_healthz": round(p95(times) / figures["healthz"]["p95_ms"], 1), "rows": rows}
        figures[name] = entry
        print(f"{name:<26} {entry['p50_ms']:>8.2f} {entry['p95_ms']:>8.2f} {entry['x_trivial']:>10.1f} "
              f"{entry['x_healthz']:>10.1f} {rows:>5}")
    queue = {name: entry for name, entry in figures.items() if name not in baselines}
    worst = max(entry["p95_ms"] for entry in queue.values())
    worst_ratio = max(entry["x_trivial"] for entry in queue.values())
    print(f"worst p95 {worst:.1f} ms (target < 50), worst {worst_ratio:.1f}x the trivial page (target <= 5)")
    print(json.dumps({"bench": "queue", "database": db.engine(app).dialect.name, "cases": args.cases,
                      "seed_seconds": round(seconds, 1), "worst_p95_ms": worst, "worst_x_trivial": worst_ratio,
                      "meets_target": worst < 50 and worst_ratio <= 5, "figures": figures}))
    db.engine(app).dispose()
    if not args.keep:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
