"""An account holder's erasure (``erasure account ID``): the trail's values of ``account:ID``,
the contacts recorded for the account and mail naming them go; the trail still verifies."""
from __future__ import annotations

import json

from sqlmodel import select

from support import db
from support.models import AccountContactRecord, AuditEvent, Channel, OutgoingMessage, PersonalValue

EMAIL, PHONE = "holder.erasable@example.test", "+79123334455"


def _account(runner) -> int:
    result = runner.invoke(args=["directory", "add-account", "--email", EMAIL, "--phone", PHONE, "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def test_an_account_holders_values_leave_the_desk_and_the_trail_verifies(app, runner, make_case, tmp_path):
    account_id = _account(runner)
    case, _token = make_case()
    with app.app_context(), db.transaction(app) as session:
        session.add(AccountContactRecord(case_id=case.id, account_id=account_id, email=EMAIL, phone=PHONE))
        session.add(OutgoingMessage(channel=Channel.email, recipient=EMAIL, subject="A change to your account",
                                    body="Hello"))
        session.add(OutgoingMessage(channel=Channel.email, recipient="someone.else@example.test", subject="Other",
                                    body="Hello"))
    outbox = tmp_path / "outbox"
    outbox.mkdir(exist_ok=True)
    (outbox / "notice.eml").write_text(f"To: {EMAIL}\nSubject: A change\n\nHello")
    (outbox / "other.eml").write_text("To: someone.else@example.test\nSubject: Other\n\nHello")
    app.config["MAIL_OUTBOX_DIR"] = str(outbox)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    refused = runner.invoke(args=["erasure", "account", str(account_id), "--reason", " ", "--yes"])
    assert refused.exit_code != 0 and "Say why" in refused.output
    result = runner.invoke(args=["erasure", "account", str(account_id), "--reason", "request 7", "--yes"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["contact_records"] == 1 and counts["queued_mail"] == 1 and counts["trail_values"] >= 2

    with app.app_context(), db.transaction(app) as session:
        kept = session.exec(select(PersonalValue).where(PersonalValue.subject == f"account:{account_id}")).all()
        # only the erasure's own reason stays readable (a ticket reference, kept apart like the others)
        assert [row.value for row in kept if row.value is not None] == ["request 7"]
        assert all(row.erased_at for row in kept if row.value is None) and len(kept) >= 3
        assert not session.exec(select(AccountContactRecord).where(AccountContactRecord.account_id == account_id)).all()
        assert [row.recipient for row in session.exec(select(OutgoingMessage))] == ["someone.else@example.test"]
        texts = [json.dumps([event.before, event.after, event.reason], default=str)
                 for event in session.exec(select(AuditEvent))]
        assert not [text for text in texts if EMAIL in text or PHONE in text]
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "account.holder_erased")).one()
    assert sorted(path.name for path in outbox.iterdir()) == ["other.eml"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    again = runner.invoke(args=["erasure", "account", str(account_id), "--reason", "request 7", "--yes"])
    assert again.exit_code == 0 and (json.loads(again.output)["contact_records"], json.loads(again.output)["queued_mail"]) == (0, 0)
