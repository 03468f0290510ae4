"""The queue: filters, searches, sorts, keyset pages, counts per status, take next."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from support import db
from support.models import Case, CaseKind, CaseStatus, Role, utcnow


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.text
    return re.findall(r'data-number="(RD-[\d-]+)"', response.text)


def set_fields(app, number, **values):
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Case).where(Case.number == number).values(**values))


def test_filters_searches_and_sorts(app, client, login, make_case):
    agent = login(Role.agent)
    now = utcnow()
    unbind, _ = make_case(kind=CaseKind.device_unbind, contact_email="Mixed@Example.test", hint_account_id="1234567890")
    locked, _ = make_case(kind=CaseKind.locked_account, status=CaseStatus.in_review)
    waiting, _ = make_case(kind=CaseKind.lost_credentials, status=CaseStatus.waiting_on_claimant)
    closed, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.closed)
    set_fields(app, unbind.number, sla_due_at=now + timedelta(hours=5), risk_score=10, created_at=now - timedelta(days=1))
    set_fields(app, locked.number, sla_due_at=now - timedelta(hours=1), risk_score=70, sla_breached=True,
               assignee_id=agent.id, created_at=now - timedelta(days=3))
    set_fields(app, waiting.number, sla_due_at=now + timedelta(hours=1), risk_score=40, created_at=now - timedelta(days=2))

    assert numbers(client.get("/queue")) == [locked.number, waiting.number, unbind.number]  # open, SLA due first
    assert numbers(client.get("/queue?sort=risk")) == [locked.number, waiting.number, unbind.number]
    assert numbers(client.get("/queue?sort=age")) == [locked.number, waiting.number, unbind.number]
    assert numbers(client.get("/queue?status=closed")) == [closed.number]
    assert set(numbers(client.get("/queue?status=all"))) == {unbind.number, locked.number, waiting.number, closed.number}
    assert numbers(client.get("/queue?kind=device_unbind")) == [unbind.number]
    assert numbers(client.get("/queue?assignee=me")) == [locked.number]
    assert numbers(client.get("/queue?assignee=unassigned")) == [waiting.number, unbind.number]
    assert numbers(client.get("/queue?breached=1")) == [locked.number]
    # searches: exact number, IMEI (either), contact email (any case), account ID; closed cases included
    assert numbers(client.get(f"/queue?q={closed.number.lower()}")) == [closed.number]
    assert numbers(client.get(f"/queue?q={waiting.imei1}")) == [waiting.number]
    # stored as typed: exact or lower-case only; another case finds it by the words of the address
    assert numbers(client.get("/queue?q=mixed@example.test")) == [unbind.number]
    assert numbers(client.get("/queue?q=Mixed@Example.test")) == [unbind.number]
    assert numbers(client.get("/queue?q=1234567890")) == [unbind.number]
    page = client.get("/queue?q=part%25of")
    assert numbers(page) == [] and "exact case number" in page.text
    breached_row = client.get("/queue").text
    assert 'class="sla-breached"' in breached_row


def test_keyset_pages_walk_every_case_once_and_counts_stay_exact(app, client, login, make_case):
    login(Role.agent)
    made = [make_case(kind=CaseKind.device_unbind)[0].number for _ in range(7)]
    make_case(status=CaseStatus.closed)
    from support.review import queue

    seen, url = [], "/queue?sort=risk"
    original = queue.PAGE_SIZE
    queue.PAGE_SIZE = 3
    try:
        while url:
            response = client.get(url)
            seen += numbers(response)
            found = re.search(r'rel="next" href="([^"]+)"', response.text)
            url = "/queue" + found.group(1).replace("&amp;", "&") if found else None
    finally:
        queue.PAGE_SIZE = original
    assert sorted(seen) == sorted(made)
    page = client.get("/queue").text
    assert re.search(r'data-status="new">[^<]*<span class="count">7</span>', page)
    assert re.search(r'data-status="closed">[^<]*<span class="count">1</span>', page)
    assert client.get("/queue?after=not-a-cursor").status_code == 400


def test_counts_follow_every_status_change(app, make_case):
    from support.review.queue import counts

    case, _ = make_case(status=CaseStatus.submitted)
    make_case(status=CaseStatus.in_review)
    with app.app_context(), db.transaction(app) as session:
        assert counts(session)["submitted"] == 1 and counts(session)["in_review"] == 1
        session.exec(update(Case).where(Case.number == case.number).values(status=CaseStatus.closed))
        assert counts(session)["submitted"] == 0 and counts(session)["closed"] == 1


def test_take_next_claims_the_most_urgent_unassigned_case(app, client, login, make_case, load):
    agent = login(Role.agent)
    later, _ = make_case()
    sooner, _ = make_case()
    taken, _ = make_case(status=CaseStatus.in_review)
    set_fields(app, later.number, sla_due_at=utcnow() + timedelta(hours=9))
    set_fields(app, sooner.number, sla_due_at=utcnow() + timedelta(hours=1))
    set_fields(app, taken.number, sla_due_at=utcnow())
    response = client.post("/queue/take-next")
    assert response.headers["Location"].endswith(f"/cases/{sooner.number}")
    case = load(sooner.number)
    assert (case.assignee_id, case.status) == (agent.id, CaseStatus.in_review)
    client.post("/queue/take-next")
    assert client.post("/queue/take-next", follow_redirects=True).text.count("No unassigned case is waiting") == 1
