"""Erasures at the same moment as other writers: the same case erased twice at once, and a
claimant's message arriving while the case is being erased. Nothing survives un-erased."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from erasure_scan import case_row
from sent_mail import read_outbox
from sqlmodel import select

from support import cases, db, erasure, filing, mail
from support.audit import Actor
from support.models import AuditEvent, CaseStatus, Message, OutgoingMessage, utcnow

DPO = Actor("cli", None, "tests")


def _in_thread(target) -> tuple[threading.Thread, list]:
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_two_erasures_of_the_same_case_at_once_erase_it_once(app, make_case):
    case, _token = make_case(status=CaseStatus.closed)
    start, results = threading.Barrier(2), []

    def erase():
        with app.app_context():
            start.wait()
            with db.transaction(app) as session:
                results.append(erasure.erase_case(session, cases.get_by_number(session, case.number), actor=DPO,
                                                  reason="DPO-1"))

    threads = [_in_thread(erase) for _ in range(2)]
    for thread, errors in threads:
        thread.join()
        assert errors == []
    assert sorted(result is None for result in results) == [False, True]
    with app.app_context(), db.transaction(app) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "case.erased")).all()) == 1


def test_a_message_sent_while_the_erasure_commits_is_refused(app, make_case):
    """The erasure holds the case; the claimant's reply waits for it, then finds the case erased."""
    case, _token = make_case(status=CaseStatus.waiting_on_claimant)

    def reply():
        with app.app_context(), app.test_request_context(), db.transaction(app) as session:
            filing.claimant_reply(session, cases.get_by_number(session, case.number),
                                  "Here is Zoltan's new phone number", None)

    with app.app_context(), db.transaction(app) as session:
        erasure.erase_case(session, cases.get_by_number(session, case.number), actor=DPO, reason="DPO-2",
                           open_too=True)
        replier, errors = _in_thread(reply)
        replier.join(timeout=1)  # it waits on the erasure's lock (PostgreSQL row lock, SQLite writer lock)
        assert replier.is_alive()
    replier.join()
    assert len(errors) == 1 and isinstance(errors[0], filing.ClaimantActionRefused), errors
    assert errors[0].code == "case_erased"
    with app.app_context(), db.transaction(app) as session:
        assert all(message.body == "" for message in session.exec(select(Message)))  # the reply was never stored


def test_a_message_committing_first_is_erased_with_the_rest(app, make_case):
    """The claimant's reply holds the case; the erasure waits for it, then erases the reply too."""
    case, _token = make_case(status=CaseStatus.waiting_on_claimant)
    holding, release = threading.Event(), threading.Event()

    def reply():
        with app.app_context(), app.test_request_context(), db.transaction(app) as session:
            filing.claimant_reply(session, cases.get_by_number(session, case.number),
                                  "Here is Zoltan's new phone number", None)
            holding.set()
            release.wait(timeout=30)

    replier, reply_errors = _in_thread(reply)
    assert holding.wait(timeout=30)

    def erase():
        with app.app_context(), db.transaction(app) as session:
            erasure.erase_case(session, cases.get_by_number(session, case.number), actor=DPO, reason="DPO-3",
                               open_too=True)

    eraser, erase_errors = _in_thread(erase)
    eraser.join(timeout=1)
    release.set()
    replier.join()
    eraser.join()
    assert reply_errors == [] and erase_errors == []
    assert case_row(app, case.number).erased_at is not None
    with app.app_context(), db.transaction(app) as session:
        bodies = [message.body for message in session.exec(select(Message))]
    assert bodies and set(bodies) == {""}


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_mail_being_written_while_the_erasure_commits_leaves_no_file(app, app_config, make_case, monkeypatch,
                                                                       channel):
    """The deliverer has claimed a mail to the claimant when the erasure deletes it and scrubs
    the outbox; the file it then writes is removed, so the outbox never keeps it."""
    case, _token = make_case(status=CaseStatus.closed)
    with app.app_context(), db.transaction(app) as session:
        if channel == "email":
            queued = mail.queue_email(session, to=case.contact_email, subject="Your case",
                                      body=f"Dear claimant of {case.number}, write to {case.contact_email}.")
        else:
            queued = mail.queue_sms(session, to="+393331234567", body=f"{case.contact_email}: case {case.number}")
        queued.next_attempt_at = utcnow() + timedelta(hours=1)  # not delivered at this commit: the test does it
    claim = mail._claim

    def claim_then_erase(message_id):
        claimed = claim(message_id)
        with db.transaction(app) as session:
            erasure.erase_case(session, cases.get_by_number(session, case.number), actor=DPO, reason="DPO-4")
        return claimed

    monkeypatch.setattr(mail, "_claim", claim_then_erase)
    with app.app_context():
        with db.transaction(app) as session:
            [message_id] = session.exec(select(OutgoingMessage.id)).all()
        assert mail._deliver_one(message_id) is True  # written, then withdrawn
        with db.transaction(app) as session:
            assert session.exec(select(OutgoingMessage)).all() == []
    assert read_outbox(app_config) == []
