"""/approvals: kind and risk per row, approve or reject from the list with the panel's rules."""
from __future__ import annotations

import re

from sqlmodel import select

from support.models import Action, ActionStatus, AuditEvent, Case, CaseKind, Role


def flashes(response) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text))


def action_of(tx, case) -> Action:
    with tx() as session:
        return session.exec(select(Action).where(Action.case_id == case.id)).one()


def test_a_supervisor_acts_from_the_list_under_the_same_rules(staff, approved_case, tx):
    requester, approver = staff(Role.supervisor), staff(Role.supervisor)
    unbind, _account, _device = approved_case(CaseKind.device_unbind)
    contact, _account2, _device2 = approved_case(CaseKind.lost_credentials)
    with tx() as session:
        row = session.get(Case, unbind.id)
        row.risk_score = 72
        session.add(row)
    for case in (unbind, contact):
        assert requester.client.post(f"/cases/{case.number}/actions",
                                     data={"code": requester.code(), "next": "/approvals"}).status_code == 302
        requester.next_window()
    first, second = action_of(tx, unbind), action_of(tx, contact)

    own = requester.client.get("/approvals").text
    own_row = re.search(rf'<tr data-action="{first.id}".*?</tr>', own, re.S).group(0)
    assert "another supervisor must approve it" in own_row and "approve-from-list" not in own_row
    assert re.search(r'<a href="/approvals">[^<]*<span class="count">2</span>', own)  # the navigation badge
    listed = approver.client.get("/approvals?lang=ru").text
    row = re.search(rf'<tr data-action="{first.id}".*?</tr>', listed, re.S).group(0)
    assert 'class="risk risk-high">72<' in row and 'class="kind">' in row
    assert f'action="/actions/{first.id}/approve"' in row and f'action="/actions/{first.id}/cancel"' in row

    # the requester cannot approve their own request from the list either
    refused = requester.client.post(f"/actions/{first.id}/approve", data={"code": requester.code(),
                                                                          "next": "/approvals"}, follow_redirects=True)
    assert "someone else must approve" in flashes(refused)
    # a wrong code (no step-up) changes nothing
    approver.client.post(f"/actions/{first.id}/approve", data={"code": "000000", "next": "/approvals"})
    assert action_of(tx, unbind).status == ActionStatus.pending_approval
    done = approver.client.post(f"/actions/{first.id}/approve", data={"code": approver.code(), "next": "/approvals"})
    assert done.status_code == 302 and done.location == "/approvals"
    assert action_of(tx, unbind).status == ActionStatus.scheduled
    rejected = approver.client.post(f"/actions/{second.id}/cancel", data={"reason": "Receipt is forged",
                                                                          "next": "/approvals"})
    assert rejected.status_code == 302 and action_of(tx, contact).status == ActionStatus.cancelled
    with tx() as session:
        trail = {(event.action, event.subject_id) for event in session.exec(select(AuditEvent))}
    assert ("action.approved", str(first.id)) in trail and ("action.cancelled", str(second.id)) in trail
    assert not re.search(r'<a href="/approvals">[^<]*<span class="count">', approver.client.get("/approvals").text)


def test_agents_never_see_the_approvals_list(staff):
    agent = staff(Role.agent)
    assert agent.client.get("/approvals").status_code == 403
