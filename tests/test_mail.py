"""Mail after commit: a message is a row in its cause's transaction, delivered after it commits."""
from __future__ import annotations

import json

import pytest
from sent_mail import read_outbox
from sqlmodel import select
from unlocks import scheduled_unlock

from support import actions, db, mail
from support.models import Account, AccountStatus, Action, Agent, OutgoingMessage, utcnow
from support.refusals import Refused
from support.stepup import SteppedUp


def queued(app) -> list[OutgoingMessage]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(OutgoingMessage)))


def test_an_unlock_that_rolls_back_tells_no_one(app, app_config, make_agent, make_account, make_device):
    action_id, agent_id, account_id, _number = scheduled_unlock(app, make_agent, make_account, make_device)
    notice = read_outbox(app_config)  # the owner was told when the unlock was scheduled, in its own transaction
    assert [mail.to for mail in notice] == ["locked@example.test"]
    with pytest.raises(RuntimeError), app.app_context(), db.transaction(app) as session:
        outcome = actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent_id),
                                  step_up=SteppedUp(agent_id, utcnow()), config=app.config)
        assert outcome.code == "executed"
        raise RuntimeError("something after the unlock failed: the whole transaction rolls back")
    assert read_outbox(app_config) == notice and queued(app) == []
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Account, account_id).status == AccountStatus.locked

    with app.app_context(), db.transaction(app) as session:  # the same unlock, committed, is told once
        actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent_id),
                        step_up=SteppedUp(agent_id, utcnow()), config=app.config)
    assert [mail.to for mail in read_outbox(app_config)] == ["locked@example.test", "claimant@example.test"]
    assert queued(app) == []


def test_mail_waits_while_smtp_is_down_and_is_delivered_once_later(app, app_config, client, runner, make_account):
    make_account(email="owner@example.test")
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # nothing listens there: connection refused
    assert client.post("/account/reset", data={"email": "owner@example.test"}).status_code == 200
    [waiting] = queued(app)
    assert (waiting.recipient, waiting.attempts, waiting.sending_until) == ("owner@example.test", 1, None)
    assert "ConnectionRefusedError" in waiting.last_error and waiting.next_attempt_at > waiting.queued_at
    assert read_outbox(app_config) == []

    app.config["SMTP_URL"] = None  # the server is back (the outbox folder stands in for it)
    early = runner.invoke(args=["mail", "deliver"])
    assert json.loads(early.output) == {"sent": 0, "failed": 0, "waiting": 1}  # still in its pause
    now = runner.invoke(args=["mail", "deliver", "--retry-now"])
    assert json.loads(now.output) == {"sent": 1, "failed": 0, "waiting": 0}, now.output
    again = runner.invoke(args=["mail", "deliver", "--retry-now"])
    assert json.loads(again.output) == {"sent": 0, "failed": 0, "waiting": 0}
    [delivered] = read_outbox(app_config)
    assert delivered.to == "owner@example.test" and "/account/reset/" in delivered.body


def test_mail_queued_in_a_savepoint_leaves_when_the_outer_transaction_commits(app, app_config):
    with app.app_context(), db.transaction(app) as session:
        with session.begin_nested():
            mail.queue_email(session, to="someone@example.test", subject="Added", body="Your files were added.")
        assert read_outbox(app_config) == []  # the savepoint is released, the transaction still open
    assert [delivered.to for delivered in read_outbox(app_config)] == ["someone@example.test"]
    assert queued(app) == []


@pytest.mark.parametrize("form", [{}, {"next": "/"}])  # the error page, and the flash + 303 back to the form
def test_a_refused_request_queues_nothing(app, app_config, client, form):
    @app.post("/test/queue-then-refuse")
    def queue_then_refuse():
        mail.queue_email(db.session(), to="someone@example.test", subject="Done", body="It is done.")
        raise Refused("not_allowed", "This is not allowed.")

    response = client.post("/test/queue-then-refuse", data=form)
    assert response.status_code == (303 if form else 422)
    assert queued(app) == [] and read_outbox(app_config) == []
