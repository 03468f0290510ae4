"""Saved views, bulk assign, the presence heartbeat, navigation badges, the 409 draft, the landing page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from support import create_app, db
from support.models import AuditEvent, Case, CasePresence, CaseStatus, Role, SavedQueueView, utcnow

PASSWORD = "correct horse battery"


def signed_in(app, agent):
    client = app.test_client()
    assert client.post("/agent/sign-in", data={"email": agent.email, "password": PASSWORD}).status_code == 302
    return client


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.text
    return re.findall(r'data-number="(RD-[\d-]+)"', response.text)


def flashes(response) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text))


def case_row(app, number) -> Case:
    with app.app_context(), db.transaction(app) as session:
        return session.exec(select(Case).where(Case.number == number)).one()


def events(app, action) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


# -- saved views --------------------------------------------------------------------------


def test_saved_views_are_per_agent_and_only_their_owner_deletes_them(app, client, login, make_agent, make_case):
    me = login(Role.agent)
    make_case()
    saved = client.post("/queue/views", data={"view_name": "  My   risky  ", "sort": "risk", "kind": "device_unbind",
                                              "after": "2026-01-01|5", "status": "bogus"})
    assert saved.status_code == 302 and saved.location == "/queue?kind=device_unbind&sort=risk"  # no cursor kept
    page = client.get("/queue?kind=device_unbind&sort=risk").text
    view_link = re.search(r'<a href="\?kind=device_unbind&amp;sort=risk" aria-current="true">My risky</a>', page)
    assert view_link, page
    # the same name again replaces the view's filters
    client.post("/queue/views", data={"view_name": "My risky", "assignee": "me"})
    with app.app_context(), db.transaction(app) as session:
        views = list(session.exec(select(SavedQueueView)))
    assert [(view.name, view.query, view.agent_id) for view in views] == [("My risky", "assignee=me", me.id)]
    refused = client.post("/queue/views", data={"view_name": "x" * 61}, follow_redirects=True)
    assert "up to 60 characters" in flashes(refused)

    other = signed_in(app, make_agent(Role.agent))
    assert "My risky" not in other.get("/queue").text  # never shown to another agent
    assert other.post(f"/queue/views/{views[0].id}/delete").status_code == 404  # nor deletable by them
    assert other.post("/queue/views/999999/delete").status_code == 404
    with app.app_context(), db.transaction(app) as session:
        assert session.get(SavedQueueView, views[0].id) is not None
    assert client.post(f"/queue/views/{views[0].id}/delete").status_code == 302
    with app.app_context(), db.transaction(app) as session:
        assert session.get(SavedQueueView, views[0].id) is None


# -- bulk assign --------------------------------------------------------------------------


def test_a_supervisor_bulk_assigns_open_cases_audited_closed_ones_skipped(app, client, login, make_agent, make_case):
    login(Role.supervisor)
    worker = make_agent(Role.agent, name="Bulk Worker")
    first, _ = make_case()
    second, _ = make_case(status=CaseStatus.waiting_on_claimant)
    closed, _ = make_case(status=CaseStatus.closed)
    page = client.get("/queue?status=all").text
    assert 'id="bulk-assign"' in page and f'value="{first.id}:' in page
    values = [f"{case.id}:{case_row(app, case.number).version}" for case in (first, second, closed)]
    response = client.post("/queue/assign", data={"case": values, "agent_id": worker.id, "next": "/queue?status=all"},
                           follow_redirects=False)
    assert response.status_code == 302 and response.location == "/queue?status=all"
    shown = flashes(client.get("/queue"))
    assert "Assigned to Bulk Worker: 2." in shown and f"no longer open: {closed.number}" in shown
    assert case_row(app, first.number).assignee_id == worker.id
    assert case_row(app, first.number).status == CaseStatus.in_review  # a new case is in review once assigned
    assert case_row(app, second.number).assignee_id == worker.id
    assert case_row(app, closed.number).assignee_id is None
    assigned = events(app, "case.reassigned")
    assert sorted(event.case_number for event in assigned) == sorted([first.number, second.number])
    assert all(event.after == {"assignee_id": worker.id} and event.reason == "bulk assign" for event in assigned)


def test_bulk_assign_is_all_or_nothing_when_a_case_changed(app, client, login, make_agent, make_case):
    login(Role.supervisor)
    worker = make_agent(Role.agent)
    first, _ = make_case()
    second, _ = make_case()
    stale = [f"{first.id}:{case_row(app, first.number).version}", f"{second.id}:{case_row(app, second.number).version - 1}"]
    response = client.post("/queue/assign", data={"case": stale, "agent_id": worker.id}, follow_redirects=True)
    assert "nothing was assigned" in flashes(response)
    assert case_row(app, first.number).assignee_id is None and case_row(app, second.number).assignee_id is None
    assert events(app, "case.reassigned") == []


def test_bulk_assign_refuses_agents_bad_input_and_forged_forms(app_config, app, client, login, make_agent, make_case):
    case, _ = make_case()
    value = f"{case.id}:{case_row(app, case.number).version}"
    agent = login(Role.agent)
    assert 'id="bulk-assign"' not in client.get("/queue").text
    assert client.post("/queue/assign", data={"case": [value], "agent_id": agent.id}).status_code == 403
    auditor = signed_in(app, make_agent(Role.auditor))
    assert auditor.post("/queue/assign", data={"case": [value], "agent_id": agent.id}).status_code == 403
    supervisor = signed_in(app, make_agent(Role.supervisor))
    assert supervisor.post("/queue/assign", data={"case": ["1 OR 1=1"], "agent_id": agent.id}).status_code == 400
    assert supervisor.post("/queue/assign", data={"case": [f"{n}:1" for n in range(1, 203)],
                                                  "agent_id": agent.id}).status_code == 400
    inactive = make_agent(Role.auditor)  # not someone cases can be assigned to
    refused = supervisor.post("/queue/assign", data={"case": [value], "agent_id": inactive.id}, follow_redirects=True)
    assert "Choose an active agent" in flashes(refused) and case_row(app, case.number).assignee_id is None
    evil = supervisor.post("/queue/assign", data={"case": [value], "agent_id": agent.id,
                                                  "next": "//evil.example/queue"})
    assert evil.location == "/queue"  # never sent off-site
    # with CSRF on (as in production) a cross-site form is refused and writes nothing
    guarded = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    forged = guarded.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', forged.get("/agent/sign-in").text).group(1)
    boss = make_agent(Role.supervisor)
    forged.post("/agent/sign-in", data={"email": boss.email, "password": PASSWORD, "csrf_token": token})
    other, _ = make_case()
    assert forged.post("/queue/assign", data={"case": [f"{other.id}:{case_row(app, other.number).version}"],
                                              "agent_id": agent.id}).status_code == 400
    assert case_row(app, other.number).assignee_id is None
    db.engine(guarded).dispose()


# -- presence -----------------------------------------------------------------------------


def test_presence_shows_other_agents_until_they_leave_or_expire(app, make_agent, make_case):
    case, token = make_case(status=CaseStatus.in_review)
    anna_agent = make_agent(Role.agent, name="Anna Viewer")
    anna = signed_in(app, anna_agent)
    bruno = signed_in(app, make_agent(Role.supervisor, name="Bruno Boss"))
    url = f"/cases/{case.number}/presence"
    assert anna.post(url, json={}).get_json()["others"] == []
    seen = bruno.post(url, json={"writing": "yes"}).get_json()  # only a real true means writing
    assert seen["others"] == [{"name": "Anna Viewer", "writing": False, "text": "Anna Viewer is viewing this case"}]
    assert "Bruno Boss is viewing this case" in anna.get(f"/cases/{case.number}").text  # shown at render too
    typing = anna.post(url, json={"writing": True})
    assert typing.get_json()["others"][0]["name"] == "Bruno Boss"
    assert bruno.post(url, json={}).get_json()["others"][0]["text"] == "Anna Viewer is writing a reply"
    assert "Anna Viewer is writing a reply" in bruno.get(f"/cases/{case.number}?lang=en").text
    ru = bruno.post(url + "?lang=ru", json={}).get_json()["others"][0]["text"]
    assert ru == "Anna Viewer пишет ответ"

    assert anna.post(url + "/leave", data={}).status_code == 204
    assert bruno.post(url, json={}).get_json()["others"] == []
    anna.post(url, json={})
    with app.app_context(), db.transaction(app) as session:  # Anna's tab died without a goodbye: her beat ages
        for row in session.exec(select(CasePresence)):
            if row.agent_id == anna_agent.id:
                row.seen_at = utcnow() - timedelta(seconds=app.config["PRESENCE_TTL_SECONDS"] + 1)
                session.add(row)
    assert bruno.post(url, json={}).get_json()["others"] == []
    with app.app_context(), db.transaction(app) as session:  # the stale beat was swept away
        assert len(list(session.exec(select(CasePresence)))) == 1

    # never for claimants or strangers: anonymous is sent to sign in; the claimant's page shows no agent
    stranger = app.test_client()
    assert stranger.post(url, json={}).status_code == 302
    assert stranger.post(url + "/leave").status_code == 302
    tracking = stranger.get(f"/track/{case.number}?t={token}").text
    assert "Bruno Boss" not in tracking and "viewing" not in tracking
    assert bruno.post("/cases/RD-2026-999999/presence", json={}).status_code == 404


# -- navigation badges ----------------------------------------------------------------------


def test_navigation_badges_count_approvals_flags_and_replies(app, client, login, make_case, make_agent):
    from support import cases
    from support.audit import Actor

    agent = login(Role.agent)
    mine, _ = make_case(status=CaseStatus.in_review)
    quiet, _ = make_case(status=CaseStatus.in_review)
    with app.app_context(), db.transaction(app) as session:
        for number in (mine.number, quiet.number):
            case = cases.get_by_number(session, number)
            case.assignee_id = agent.id
            session.add(case)
            cases.add_message(session, case, body="Please send the box photo", actor=Actor("agent", str(agent.id), "A"))
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, mine.number)
        cases.add_message(session, case, body="Here it is", actor=Actor("claimant", mine.number, None))
    page = client.get("/dashboard").text
    badge = re.search(r'href="/queue\?assignee=me&amp;status=in_review">([^<]+)<span class="count">(\d+)</span>', page)
    assert badge and badge.group(2) == "1", page
    assert 'href="/approvals"' not in page  # agents approve nothing

    supervisor = signed_in(app, make_agent(Role.supervisor))
    flagged, _ = make_case(status=CaseStatus.in_review)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, flagged.number)
        case.flagged, case.flag_reason = True, "this was not me"
        session.add(case)
    closed, _ = make_case(status=CaseStatus.closed)  # a flag on a closed case is no work left
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, closed.number)
        case.flagged, case.flag_reason = True, "this was not me"
        session.add(case)
    boss_page = supervisor.get("/queue").text
    assert re.search(r'href="/queue\?flagged=1">[^<]+<span class="count">1</span>', boss_page)
    assert re.search(r'href="/approvals">[^<]+</a>', boss_page)  # no pending approval: no badge


# -- the 409 draft and the landing page -----------------------------------------------------


def test_after_an_edit_conflict_the_draft_is_back_in_the_form(app, client, login, make_case):
    case, _ = make_case(status=CaseStatus.in_review)
    login(Role.agent)
    seen = case_row(app, case.number).version
    client.post(f"/cases/{case.number}/messages", data={"version": seen, "body": "First", "visibility": "internal"})
    draft = 'Dear claimant, <b>"quoted"</b>\nsecond line'
    conflict = client.post(f"/cases/{case.number}/messages", data={"version": seen, "body": draft,
                                                                    "visibility": "internal"})
    assert conflict.status_code == 409
    assert 'id="conflict"' in conflict.text and "This case changed while you were looking" in conflict.text
    textarea = re.search(r'<textarea id="message-body" name="body"[^>]*>(.*?)</textarea>', conflict.text, re.S).group(1)
    assert textarea == "Dear claimant, &lt;b&gt;&#34;quoted&#34;&lt;/b&gt;\nsecond line"  # escaped, whole
    assert re.search(r'value="internal" checked', conflict.text)  # the chosen visibility too
    assert "visibility" not in re.sub(r"<[^>]+>", "", conflict.text).split("Conversation")[0]  # no raw field dump
    version = re.search(r'name="version" value="(\d+)"', conflict.text).group(1)
    assert int(version) == case_row(app, case.number).version  # the form now carries the current version
    resent = client.post(f"/cases/{case.number}/messages", data={"version": version, "body": draft,
                                                                  "visibility": "internal"})
    assert resent.status_code == 302
    decision = client.post(f"/cases/{case.number}/decision", data={"version": seen, "decision": "reject",
                                                                   "public_reason": "Receipt is for another phone"})
    assert decision.status_code == 409
    assert re.search(r'<textarea id="public_reason"[^>]*>Receipt is for another phone</textarea>', decision.text)
    assert re.search(r'value="reject" checked', decision.text)


def test_an_agent_lands_on_the_queue_and_next_stays_on_this_site(app, make_agent):
    agent = make_agent(Role.agent)
    for target, expected in [(None, "/queue"), ("/dashboard", "/dashboard"), ("//evil.example", "/queue"),
                             ("https://evil.example/queue", "/queue"), ("/\\evil.example", "/queue"),
                             ("%2F%2Fevil.example", "/queue"), ("javascript:alert(1)", "/queue")]:
        client = app.test_client()
        query = {"next": target} if target is not None else {}
        response = client.post("/agent/sign-in", query_string=query,
                               data={"email": agent.email, "password": PASSWORD})
        assert response.status_code == 302 and response.location == expected, (target, response.location)
