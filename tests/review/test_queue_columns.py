"""The queue's columns and sortable headers: claimant, model, age in hours, keyset pages under every sort."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from support import db
from support.models import Case, CaseStatus, Role, utcnow
from support.review import queue


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.text
    return re.findall(r'data-number="(RD-[\d-]+)"', response.text)


def set_fields(app, number, **values):
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Case).where(Case.number == number).values(**values))


def walk(client, url: str) -> list[str]:
    """Every row of every keyset page from ``url`` on, following the next-page links."""
    seen = []
    while url:
        response = client.get(url)
        seen += numbers(response)
        found = re.search(r'rel="next" href="([^"]+)"', response.text)
        url = "/queue" + found.group(1).replace("&amp;", "&") if found else None
    return seen


def test_columns_age_and_sortable_headers(app, client, login, make_case):
    login(Role.agent)
    now = utcnow()
    young, _ = make_case(claimant_name="Zoe Young", model="Redmi 12C")
    day_old, _ = make_case(claimant_name="Анна Иванова", model=None)
    old, _ = make_case(claimant_name="Marco Rossi", model="POCO X6")
    set_fields(app, young.number, created_at=now - timedelta(hours=5, minutes=10))
    set_fields(app, day_old.number, created_at=now - timedelta(hours=47, minutes=50))
    set_fields(app, old.number, created_at=now - timedelta(days=9, hours=3))
    page = client.get("/queue").text
    row = lambda number: re.search(rf'<tr[^>]*data-number="{number}">(.*?)</tr>', page, re.S).group(1)
    assert "Zoe Young" in row(young.number) and "Redmi 12C" in row(young.number)
    assert re.search(r'class="age" data-unit="h">5 h<', row(young.number))
    assert re.search(r'class="age" data-unit="h">47 h<', row(day_old.number))  # hours right up to two days
    assert re.search(r'class="age" data-unit="d">9 d<', row(old.number))
    assert "—" in row(day_old.number)  # no model given

    # headers are links (keyboard reachable) with aria-sort on the current one
    assert re.search(r'<th scope="col" aria-sort="ascending">\s*<a class="sort" href="\?dir=desc" data-sort="sla"', page)
    assert re.search(r'<a class="sort" href="\?sort=name" data-sort="name"', page)
    by_name = client.get("/queue?sort=name")
    assert numbers(by_name) == [old.number, young.number, day_old.number]  # Latin before Cyrillic, in any collation
    assert 'aria-sort="ascending"' in by_name.text and 'href="?sort=name&amp;dir=desc"' in by_name.text
    assert numbers(client.get("/queue?sort=name&dir=desc")) == list(reversed(numbers(by_name)))
    assert numbers(client.get("/queue?sort=model")) == [day_old.number, old.number, young.number]  # empty first
    assert numbers(client.get("/queue?sort=model&dir=desc")) == [young.number, old.number, day_old.number]
    assert numbers(client.get("/queue?sort=age&dir=desc")) == [young.number, day_old.number, old.number]
    assert numbers(client.get("/queue?sort=risk&dir=asc"))  # every whitelisted sort answers

    # hostile sort and direction values fall back to the defaults; no SQL reaches the query
    assert numbers(client.get("/queue?sort=claimant_name;DROP TABLE case&dir=sideways")) == numbers(client.get("/queue"))
    assert numbers(client.get("/queue?sort=__class__")) == numbers(client.get("/queue"))


@pytest.mark.parametrize("sort", ["name", "model", "age", "sla", "risk"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_keyset_pages_stay_exact_under_every_sort(app, client, login, make_case, sort, direction, monkeypatch):
    """Ties on the sort column (same name, same model, no model) are broken by id: no row twice, none lost."""
    login(Role.agent)
    made = []
    for index in range(7):
        case, _ = make_case(claimant_name=["Same Name", "Другое Имя", "a|pipe"][index % 3],
                            model=[None, "Redmi 12C", "Redmi 12C"][index % 3])
        made.append(case.number)
        set_fields(app, case.number, risk_score=[10, 10, 50][index % 3])
    make_case(status=CaseStatus.closed)
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    seen = walk(client, f"/queue?sort={sort}&dir={direction}")
    assert len(seen) == len(set(seen)) and sorted(seen) == sorted(made)
    monkeypatch.setattr(queue, "PAGE_SIZE", 50)
    assert seen == numbers(client.get(f"/queue?sort={sort}&dir={direction}"))  # pages join into the one-page order


def test_forged_cursors_are_refused_for_every_sort(client, login, make_case):
    login(Role.agent)
    make_case()
    for sort in ("name", "model", "age", "sla", "risk"):
        assert client.get(f"/queue?sort={sort}&after=no-separator").status_code == 400
        assert client.get(f"/queue?sort={sort}&after=x|not-an-id").status_code == 400
    assert client.get("/queue?sort=risk&after=high|3").status_code == 400
    assert client.get("/queue?sort=age&after=yesterday|3").status_code == 400
    assert client.get("/queue?sort=age&after=2026-01-01T00:00:00|3").status_code == 400  # naive time
    # a name cursor is any text: it is a bound parameter, never SQL
    assert client.get("/queue?sort=name&after=%27%20OR%201%3D1--|1").status_code == 200
