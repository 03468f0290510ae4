"""What keeps the queue fast at ten million cases: a fixed, small number of statements per
page, its short lists read together, the replied marker with the rows, the flagged queue
on its own index, and the bench's server-side seeding."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select, text

from support import cases, db, db_together
from support.audit import Actor
from support.imei import luhn_digit
from support.models import Agent, Case, CaseStatus, Role
from support.review import queue as queue_rules
from support.review import saved_views

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def statements(app):
    """The SELECT statements the app's engine runs inside the block (pings and BEGIN/COMMIT aside)."""
    seen: list[str] = []

    def note(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and statement.strip() != "SELECT 1":
            seen.append(statement)

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_queue_costs_two_statements_more_than_the_trivial_page_whatever_it_shows(app, client, make_agent,
                                                                                    make_case):
    supervisor = make_agent(Role.supervisor)
    assert client.post("/agent/sign-in", data={"email": supervisor.email, "password": "correct horse battery"}
                       ).status_code == 302
    for status in (CaseStatus.new, CaseStatus.in_review, CaseStatus.in_review, CaseStatus.waiting_on_claimant):
        make_case(status=status)
    client.post("/queue/views", data={"view_name": "Mine", "assignee": "me"})
    client.get("/")  # warm: the first request loads what every later one reuses
    with statements(app) as trivial:
        assert client.get("/").status_code == 200
    for url in ("/queue", "/queue?status=in_review", "/queue?sort=risk&dir=asc", "/queue?flagged=1"):
        with statements(app) as queue:
            page = client.get(url)
        assert page.status_code == 200
        # the page's rows (with their replied marker) and one read of its short lists; no N+1
        assert len(queue) == len(trivial) + 2, (url, queue)
    assert 'data-view=' in client.get("/queue").text and "Mine" in client.get("/queue").text


def test_the_replied_marker_comes_with_the_row_and_clears_when_an_agent_answers(app, client, login, make_case):
    agent = login(Role.agent)
    asked, _ = make_case(status=CaseStatus.in_review)
    silent, _ = make_case(status=CaseStatus.in_review)
    with app.app_context(), db.transaction(app) as session:
        for number in (asked.number, silent.number):
            case = cases.get_by_number(session, number)
            case.assignee_id = agent.id
            cases.add_message(session, case, body="Which shop?", actor=Actor("agent", str(agent.id), "A"))
    with app.app_context(), db.transaction(app) as session:
        cases.add_message(session, cases.get_by_number(session, asked.number), body="MediaWorld",
                          actor=Actor("claimant", asked.number, None))

    def marked(page: str) -> set[str]:
        rows = dict(re.findall(r'data-number="(RD-[\d-]+)">(.*?)</tr>', page, re.S))
        return {number for number, row in rows.items() if "badge replied" in row}

    page = client.get("/queue?assignee=me").text
    assert marked(page) == {asked.number}
    assert re.search(r'href="/queue\?assignee=me&amp;status=in_review">[^<]+<span class="count">1</span>', page)
    with app.app_context(), db.transaction(app) as session:
        assert queue_rules.claimant_replied(session, cases.get_by_number(session, asked.number).id)
        assert not queue_rules.claimant_replied(session, cases.get_by_number(session, silent.number).id)
        cases.add_message(session, cases.get_by_number(session, asked.number), body="Thanks",
                          actor=Actor("agent", str(agent.id), "A"))
    page = client.get("/queue?assignee=me").text
    assert marked(page) == set()
    assert not re.search(r'status=in_review">[^<]+<span class="count">', page)


def test_short_lists_are_read_together_in_one_statement(app, make_agent):
    agent = make_agent(Role.agent, name="Zoë Agent")
    make_agent(Role.supervisor, name="Anna Boss")
    with app.app_context(), db.transaction(app) as session:
        saved_views.save(session, agent_id=agent.id, name="New ones", chosen=queue_rules.QueueFilter(status="new"))
    lists = db_together.ReadTogether(counts=queue_rules.COUNTS, views=saved_views.LISTING,
                                     team=select(Agent.id, Agent.name, Agent.role, Agent.active))
    with app.app_context(), db.transaction(app) as session, statements(app) as seen:
        listed = lists(session, agent_id=agent.id)
    assert len(seen) == 1
    with app.app_context(), db.transaction(app) as session:  # composed once, read with each agent's id
        assert lists(session, agent_id=agent.id + 1000)["views"] == []
    assert [(view["name"], view["query"]) for view in listed["views"]] == [("New ones", "status=new")]
    team = {member["name"]: member for member in listed["team"]}
    assert team["Zoë Agent"]["id"] == agent.id and team["Anna Boss"]["role"] == "supervisor"
    assert all(bool(member["active"]) for member in team.values())
    assert queue_rules.counts_of(listed["counts"]) == queue_rules.counts_of([]) | {
        row["status"]: row["count"] for row in listed["counts"]}


def test_the_flagged_queue_walks_its_own_index_in_order(app):
    """The open flagged cases in SLA and in risk order can come from the partial indexes of
    queue10m_1 with no sort step, on both databases, so a page reads 51 rows, not all."""
    chosen = {"sla": queue_rules.QueueFilter(flagged=True), "risk": queue_rules.QueueFilter(flagged=True, sort="risk")}
    with app.app_context(), db.transaction(app) as session:
        dialect = session.get_bind().dialect
        for sort, expected in (("sla", "ix_case_flagged_open_sla"), ("risk", "ix_case_flagged_open_risk")):
            filters = queue_rules.conditions(chosen[sort], agent_id=1)
            column, descending = queue_rules.SORTS[sort][0], chosen[sort].descending
            order = (column.desc(), Case.id.desc()) if descending else (column, Case.id)
            query = select(*queue_rules.ROW_COLUMNS).where(*filters).order_by(*order).limit(51)
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if dialect.name == "postgresql":
                # an empty table: the planner's cheapest is any plan; ask whether the index serves in order
                for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                    session.execute(text(f"SET LOCAL {setting} = off"))
                plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
                assert expected in plan and "Sort" not in plan.split(expected)[0], plan
            else:  # without statistics SQLite's choice is a guess: ask that the index can serve, in order
                sql = sql.replace('FROM "case"', f'FROM "case" INDEXED BY {expected}', 1)
                plan = "\n".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
                assert expected in plan and "TEMP B-TREE" not in plan, plan


def test_who_wrote_last_is_read_from_the_indexes_alone(app):
    """The "claimant replied" marker (the Replies badge on every agent page) asks, per case, when
    an agent and when the claimant last wrote or uploaded: each is an index-only look-up of
    migration replied_1, never a read of the case's messages from the table."""
    with app.app_context(), db.transaction(app) as session:
        dialect = session.get_bind().dialect
        query = select(queue_rules.claimant_replied_after_agent(Case.id)).where(Case.id == 1)
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                session.execute(text(f"SET LOCAL {setting} = off"))
            plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
            expected = ("Index Only Scan Backward using ix_message_case_author_at",
                        "Index Only Scan Backward using ix_evidence_case_uploader_at")
        else:
            plan = "\n".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            expected = ("USING COVERING INDEX ix_message_case_author_at",
                        "USING COVERING INDEX ix_evidence_case_uploader_at")
        assert all(part in plan for part in expected), plan


def test_the_bench_seeds_in_the_server_on_postgresql_and_measures(app, database_url, migration_database_url):
    """The bench's seed as the 10-million-case run does it (rows generated by PostgreSQL,
    IMEIs with their check digit, the status counters taken once), at 300 cases."""
    url = migration_database_url or database_url
    db.engine(app).dispose()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "queue.py"), "--cases", "300", "--requests", "2",
                             "--database-url", url], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["cases"] == 300 and summary["figures"]["open, SLA due (default)"]["rows"] > 0
    assert all("x_trivial" in entry for name, entry in summary["figures"].items() if name not in ("healthz", "trivial"))
    with app.app_context(), db.transaction(app) as session:
        imeis = session.execute(select(Case.imei1, Case.imei2)).all()
        assert len(imeis) == 300
        for imei1, imei2 in imeis:
            for imei in filter(None, (imei1, imei2)):
                assert len(imei) == 15 and imei[-1] == luhn_digit(imei[:14]), imei
        assert sum(queue_rules.counts(session).values()) == 300
        assert session.execute(select(Case.status).where(Case.flagged)).scalars().all() == [] or all(
            status in (CaseStatus.new, CaseStatus.in_review)
            for status in session.execute(select(Case.status).where(Case.flagged)).scalars())
    # a second run reuses what the first seeded instead of refusing or seeding again
    again = subprocess.run([sys.executable, str(ROOT / "bench" / "queue.py"), "--reuse", "--requests", "2",
                            "--database-url", url], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["cases"] == 300
