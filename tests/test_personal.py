"""Personal values out of the hashed audit text: recorded as fingerprints, read back, erased.

Real SQLite and PostgreSQL; the scans read every text column of every table.
"""
import json

from sqlalchemy import String, Text, inspect, select as sa_select, text
from sqlmodel import select

from support import audit, db, personal, personal_data
from support.auditlog.views import _timeline
from support.models import AuditEvent, Case, PersonalValue, Role
from support.sentences import describe

NAME, EMAIL, PHONE = "Ivana Petrova-Shredded", "ivana.shredded@example.test", "+39 333 111 2222"
OTHER_NAME, OTHER_EMAIL = "Marco Keptalive", "marco.kept@example.test"
CLAIMANT_IP, CLAIMANT_AGENT = "203.0.113.77", "Mozilla/5.0 (Shredded Test Browser)"
DPO = audit.Actor("agent", "1", "Data Protection Officer")


def file_two(app, make_case):
    """Two cases by two claimants; the first claimant also writes from a known address."""
    erased, _token = make_case(claimant_name=NAME, contact_email=EMAIL, hint_phone=PHONE)
    kept, _token = make_case(claimant_name=OTHER_NAME, contact_email=OTHER_EMAIL)
    with app.app_context(), db.transaction(app) as session:
        audit.record(session, actor=audit.Actor("claimant", erased.number, NAME), action="case.reopened_test",
                     subject=("case", erased.number), case_number=erased.number,
                     after={"email": EMAIL, "phone": PHONE, "nested": {"name": NAME}, "imeis": [erased.imei1]},
                     reason=f"I am {NAME}, write to {EMAIL}",
                     origin=audit.Origin(CLAIMANT_IP, CLAIMANT_AGENT, "req-1"))
    return erased, kept


def text_hits(app, owner_engine, needles) -> dict[str, set[str]]:
    """{table.column: needles found} over every text column of every table."""
    engine = owner_engine or db.engine(app)
    hits: dict[str, set[str]] = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], (String, Text)) and "JSON" not in str(column["type"]).upper():
                    continue
                quoted = connection.dialect.identifier_preparer.quote
                rows = connection.execute(text(f"SELECT CAST({quoted(column['name'])} AS TEXT) FROM {quoted(table)}"))
                for (value,) in rows:
                    for needle in needles:
                        if value and needle.lower() in value.lower():
                            hits.setdefault(f"{table}.{column['name']}", set()).add(needle)
    return hits


def verified(app):
    with app.app_context(), db.transaction(app) as session:
        return audit.verify(session)


def test_the_hashed_text_holds_fingerprints_and_readers_get_the_values(app, make_case, owner_engine):
    erased, kept = file_two(app, make_case)
    needles = [NAME, EMAIL, PHONE, CLAIMANT_IP, CLAIMANT_AGENT]
    hits = text_hits(app, owner_engine, needles)
    assert not [column for column in hits if column.startswith("audit_event.")], hits
    assert hits.get("personal_value.value") == set(needles)
    assert verified(app).ok
    with app.test_request_context(), db.transaction(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.case_number == erased.number)
                              .order_by(AuditEvent.seq)).all()
        filed = events[0]
        assert personal_data.TOKEN.fullmatch(filed.actor_name) and personal_data.TOKEN.fullmatch(
            filed.after["contact_email"])
        shown = personal.reveal(session, events)
        assert shown[0].actor_name == NAME and shown[0].after["contact_email"] == EMAIL
        written = shown[-1]
        assert (written.ip, written.user_agent, written.reason) == (CLAIMANT_IP, CLAIMANT_AGENT, f"I am {NAME}, write to {EMAIL}")
        assert written.after == {"email": EMAIL, "phone": PHONE, "nested": {"name": NAME}, "imeis": [erased.imei1]}
        assert NAME in describe(written)
        assert session.get(AuditEvent, filed.seq).actor_name == filed.actor_name, "the stored row is untouched"
        assert not session.dirty


def test_erase_leaves_no_value_of_the_subject_and_the_chain_verifies(app, make_case, owner_engine, runner):
    erased, kept = file_two(app, make_case)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context(), db.transaction(app) as session:
        cleared = personal.erase(session, [erased.number], actor=DPO, reason="retention period over")
    assert cleared == 7  # name, email, phone, IMEI, address, browser, the typed reason
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    hits = text_hits(app, owner_engine, [NAME, EMAIL, PHONE, CLAIMANT_IP, CLAIMANT_AGENT, erased.imei1])
    # the case row itself (and its queued mail) go with the case: the erasure of cases does that
    assert set(hits) <= {"case.claimant_name", "case.contact_email", "case.hint_phone", "case.imei1",
                         "outgoing_message.recipient", "outgoing_message.body", "outgoing_message.subject",
                         "outgoing_message.payload"}, hits
    with app.test_request_context(), db.transaction(app) as session:
        rows = session.exec(select(PersonalValue).where(PersonalValue.subject == erased.number)).all()
        assert rows and all(row.value is None and row.erased_at for row in rows)
        gone = personal.reveal(session, session.exec(select(AuditEvent).where(
            AuditEvent.case_number == erased.number).order_by(AuditEvent.seq)).all())
        assert gone[0].actor_name == personal.ERASED and gone[0].after["contact_email"] == personal.ERASED
        still = personal.reveal(session, session.exec(select(AuditEvent).where(
            AuditEvent.case_number == kept.number).order_by(AuditEvent.seq)).all())
        assert still[0].actor_name == OTHER_NAME and still[0].after["contact_email"] == OTHER_EMAIL
        last = audit.head(session)
        assert last.action == "personal.erased"
        assert last.after == {"subjects": [erased.number], "values": cleared}
        assert "erased the personal values of 1 data subject" in describe(last)


def test_a_value_moved_or_altered_in_the_table_never_reads_as_the_value(app, make_case, owner_engine, runner):
    erased, kept = file_two(app, make_case)
    with (owner_engine or db.engine(app)).begin() as connection:
        mine = connection.execute(text("SELECT id, value FROM personal_value WHERE value = :v"), {"v": EMAIL}).one()
        theirs = connection.execute(text("SELECT id, value FROM personal_value WHERE value = :v"),
                                    {"v": OTHER_EMAIL}).one()
        connection.execute(text("UPDATE personal_value SET value = :v WHERE id = :id"), {"v": OTHER_EMAIL, "id": mine.id})
        connection.execute(text("UPDATE personal_value SET value = :v WHERE id = :id"), {"v": EMAIL, "id": theirs.id})
        connection.execute(text("UPDATE personal_value SET subject = 'RD-2000-000001' WHERE value = :v"), {"v": NAME})
    with app.test_request_context(), db.transaction(app) as session:
        swapped = personal.reveal(session, session.exec(select(AuditEvent).where(
            AuditEvent.case_number == erased.number).order_by(AuditEvent.seq)).all())
        assert swapped[0].after["contact_email"] == personal.MISMATCH
        assert swapped[0].actor_name == personal.MISSING  # moved to another subject: not this event's value
        exported = personal.personal_map(session, session.exec(select(AuditEvent).where(
            AuditEvent.case_number == kept.number)).all())
        assert EMAIL not in json.dumps(exported) and OTHER_EMAIL not in json.dumps(exported)
    assert verified(app).ok, "the chain itself holds no value: readers see the tampering, and audit verify"
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "audit trail intact" in result.output
    assert f"personal values ALTERED (they do not match their fingerprints) of: {erased.number}, {kept.number}" \
        in result.output


def test_a_changed_token_breaks_the_chain(app, make_case, owner_engine):
    from tests.test_audit import drop_triggers

    erased, _kept = file_two(app, make_case)
    engine = owner_engine or db.engine(app)
    with engine.begin() as connection:
        drop_triggers(connection, engine.dialect.name)
        seq, name = connection.execute(text("SELECT seq, actor_name FROM audit_event WHERE actor_type = 'claimant' "
                                            "ORDER BY seq LIMIT 1")).one()
        other = connection.execute(text("SELECT fingerprint FROM personal_value WHERE value = :v"),
                                   {"v": OTHER_NAME}).scalar_one()
        connection.execute(text("UPDATE audit_event SET actor_name = :t WHERE seq = :s"), {"t": f"pv:{other}", "s": seq})
    verdict = verified(app)
    assert not verdict.ok and verdict.bad_seq == seq


def test_the_audit_page_finds_a_person_by_the_whole_value_and_shows_erased(app, make_case, client, login):
    erased, kept = file_two(app, make_case)
    login(Role.auditor)
    page = client.get("/audit", query_string={"person": EMAIL.upper()}).get_data(as_text=True)
    assert erased.number in page and kept.number not in page and EMAIL in page
    assert erased.number in client.get("/audit", query_string={"actor": NAME}).get_data(as_text=True)
    exported = [json.loads(line) for line in client.get("/audit/export.jsonl",
                                                         query_string={"case": erased.number}).get_data(as_text=True).splitlines()]
    assert exported and all(EMAIL not in json.dumps({k: v for k, v in line.items() if k != "personal"})
                            for line in exported)
    assert any(EMAIL in (line.get("personal") or {}).values() for line in exported)
    with app.app_context(), db.transaction(app) as session:
        personal.erase(session, [erased.number], actor=DPO)
    page = client.get("/audit", query_string={"case": erased.number}).get_data(as_text=True)
    assert EMAIL not in page and NAME not in page and "[erased]" in page
    exported = client.get("/audit/export.jsonl", query_string={"case": erased.number}).get_data(as_text=True)
    assert EMAIL not in exported and NAME not in exported
    assert OTHER_EMAIL in client.get("/audit", query_string={"person": OTHER_EMAIL}).get_data(as_text=True)


def test_staff_and_the_system_are_not_data_subjects(app):
    with app.app_context(), db.transaction(app) as session:
        event = audit.record(session, actor=audit.Actor("agent", "3", "Agent Smith"), action="agent.created",
                             subject=("agent", 7), after={"email": "agent@example.test", "name": "New Agent"},
                             origin=audit.Origin("198.51.100.1", "Agent Browser"))
        assert (event.actor_name, event.after["email"], event.ip) == ("Agent Smith", "agent@example.test",
                                                                      "198.51.100.1")
        assert session.exec(select(PersonalValue)).first() is None
