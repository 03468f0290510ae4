"""The migration that moves personal values out of an existing trail (shred_2).

A database is built at the revision before it, with events written as they were then
(names, emails, phones, addresses in the hashed text), checkpoints signed and witnessed
in a file; it is upgraded as the app upgrades; then ``audit verify`` passes with the
witness, no value remains in the events, names read back, and forgeries are caught.
"""
import json
import uuid
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from support import audit, audit_conversion, create_app, db, personal, witness
from support.models import AuditConversion, AuditEvent, utcnow
from tests.conftest import BACKENDS, PG_URL
from tests.test_audit import drop_triggers
from tests.test_personal import text_hits

SIGNING_KEY = "33" * 32
CASE = "RD-2026-000001"
OLGA, OLGA_EMAIL, OLGA_PHONE, OLGA_IP = "Olga Oldform", "olga.old@example.test", "+7 900 123 45 67", "192.0.2.10"
HOLDER_EMAIL, HOLDER_PHONE = "holder.old@example.test", "+39 320 000 1111"
AGENT = audit.Actor("agent", "2", "Agent Alda")


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """An empty database (no schema), reached as its owner."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    base = make_url(PG_URL)
    name = f"{base.database}_conv_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def old_record(session, *, actor, action, subject=None, case_number=None, after=None, reason=None, ip=None):
    """An event as ``audit.record`` wrote it before shred_2: every value inside the hashed text."""
    last = audit.head(session)
    fields = {"seq": (last.seq + 1) if last else 1, "at": utcnow().isoformat(), "actor_type": actor.type,
              "actor_id": actor.id, "actor_name": actor.name, "action": action,
              "subject_type": subject[0] if subject else None, "subject_id": str(subject[1]) if subject else None,
              "case_number": case_number, "before": None, "after": after, "reason": reason, "ip": ip,
              "user_agent": "Old Browser/1.0" if ip else None, "request_id": None}
    canonical, prev_hash = audit._canonical(fields), last.hash if last else audit.GENESIS
    session.add(AuditEvent(**{**fields, "at": datetime.fromisoformat(fields["at"])}, canonical=canonical,
                           prev_hash=prev_hash, hash=audit._digest(canonical, prev_hash)))
    session.flush()


@pytest.fixture
def converted(empty_database_url, tmp_path):
    """(app, witness file): a trail written before shred_2, checkpointed every 3 events and
    witnessed, then upgraded to the head."""
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": empty_database_url,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "AUDIT_SIGNING_KEY": SIGNING_KEY,
                      "AUDIT_CHECKPOINT_EVERY": 3, "AUDIT_WITNESS_FILE": str(tmp_path / "witness.log")})
    db.upgrade(app, "erasure_1")
    claimant = audit.Actor("claimant", CASE, OLGA)
    written = [
        dict(actor=claimant, action="case.filed", subject=("case", CASE), case_number=CASE,
             after={"kind": "device_unbind", "imei1": "490154203237518", "contact_email": OLGA_EMAIL}, ip=OLGA_IP),
        dict(actor=AGENT, action="case.claimed", subject=("case", CASE), case_number=CASE, after={"assignee_id": 2}),
        dict(actor=audit.Actor("cli", None, "command line"), action="account.created", subject=("account", 5),
             after={"email": HOLDER_EMAIL, "phone": HOLDER_PHONE}),
        dict(actor=claimant, action="message.public", subject=("message", 1), case_number=CASE,
             after={"length": 12}, ip=OLGA_IP),
        dict(actor=AGENT, action="agent.created", subject=("agent", 3), after={"email": "staff@example.test"}),
        dict(actor=AGENT, action="case.transition", subject=("case", CASE), case_number=CASE,
             after={"status": "waiting_on_claimant"}, reason=f"I called {OLGA} at {OLGA_PHONE}"),
        dict(actor=AGENT, action="case.claimed", subject=("case", CASE), case_number=CASE, after={"assignee_id": 2}),
    ]
    for fields in written:
        with db.transaction(app) as session:
            old_record(session, **fields)
    assert len(witness.read((tmp_path / "witness.log").read_text().splitlines())) == 3  # at 1, 4 and 7
    db.upgrade(app)
    yield app, tmp_path / "witness.log"
    db.engine(app).dispose()


def verdict(app, witness_file, public_key=None):
    with app.app_context(), db.transaction(app) as session:
        return audit.verify(session, public_key or audit.load_signing_key(app.config, app.instance_path).public_key(),
                            witness.read(witness_file.read_text().splitlines()))


def test_conversion_moves_values_out_and_the_trail_still_verifies(converted):
    app, witness_file = converted
    result = verdict(app, witness_file)
    assert result.ok and result.count == 7, result
    hits = text_hits(app, None, [OLGA, OLGA_EMAIL, OLGA_PHONE, OLGA_IP, HOLDER_EMAIL, HOLDER_PHONE, "Old Browser"])
    assert not [column for column in hits if not column.startswith("personal_value.")], hits
    with app.test_request_context(), db.transaction(app) as session:
        conversion = session.exec(select(AuditConversion)).one()
        assert conversion.seq == 7 and conversion.old_head_hash != conversion.new_head_hash
        shown = personal.reveal(session, session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all())
        assert shown[0].actor_name == OLGA and shown[0].after["contact_email"] == OLGA_EMAIL
        assert shown[0].ip == OLGA_IP
        assert shown[2].after == {"email": HOLDER_EMAIL, "phone": HOLDER_PHONE}
        assert shown[4].after == {"email": "staff@example.test"}, "staff data is not converted"
        assert shown[5].reason == f"I called {OLGA} at {OLGA_PHONE}"
    with app.app_context(), db.transaction(app) as session:  # the trail goes on, checkpointed and witnessed
        for number in range(3):
            audit.record(session, actor=AGENT, action="case.claimed", subject=("case", CASE), case_number=CASE)
    assert len(witness.read(witness_file.read_text().splitlines())) == 4
    assert verdict(app, witness_file).ok
    with app.app_context(), db.transaction(app) as session:
        personal.erase(session, [CASE], actor=AGENT)
    assert verdict(app, witness_file).ok
    hits = text_hits(app, None, [OLGA, OLGA_EMAIL, OLGA_PHONE, OLGA_IP])
    assert not hits, hits


def test_upgrading_again_changes_nothing(converted):
    app, witness_file = converted
    with app.app_context(), db.transaction(app) as session:
        before = [event.hash for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]
    db.upgrade(app)
    with app.app_context(), db.transaction(app) as session:
        assert [event.hash for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq))] == before
    assert verdict(app, witness_file).ok


def _drop_protection(connection, table: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
    else:
        connection.execute(text(f"DROP TRIGGER {table}_no_update"))


def forge_former_hash(connection):
    """Pass off another former hash for event 2, as if old checkpoints had signed it."""
    _drop_protection(connection, "audit_former_hash")
    connection.execute(text("UPDATE audit_former_hash SET hash = :h WHERE seq = 2"), {"h": "ab" * 32})


def forge_conversion(connection):
    """Re-sign the conversion with a key of the forger's own."""
    _drop_protection(connection, "audit_conversion")
    row = connection.execute(text("SELECT * FROM audit_conversion")).mappings().one()
    forger = Ed25519PrivateKey.generate()
    at = audit_conversion.utcnow()
    signature = forger.sign(audit_conversion.statement(row["kind"], row["seq"], row["old_head_hash"],
                                                       row["new_head_hash"], row["hashes_digest"], at)).hex()
    connection.execute(text("UPDATE audit_conversion SET signature = :s, public_key = :k"),
                       {"s": signature, "k": forger.public_key().public_bytes_raw().hex()})


def rewrite_chain(connection):
    """Put the name back into event 1's text and recompute every hash after it (no signing key)."""
    drop_triggers(connection, connection.dialect.name)
    prev_hash = audit.GENESIS
    for seq, canonical in connection.execute(text("SELECT seq, canonical FROM audit_event ORDER BY seq")).all():
        if seq == 1:
            canonical = audit._canonical({**json.loads(canonical), "actor_name": OLGA})
            connection.execute(text("UPDATE audit_event SET actor_name = :n WHERE seq = 1"), {"n": OLGA})
        new_hash = audit._digest(canonical, prev_hash)
        connection.execute(text("UPDATE audit_event SET canonical = :c, prev_hash = :p, hash = :h WHERE seq = :s"),
                           {"c": canonical, "p": prev_hash, "h": new_hash, "s": seq})
        prev_hash = new_hash


def remove_conversion(connection):
    """Delete the conversion and the former hashes: the old checkpoints then name today's chain as changed."""
    for table in ("audit_former_hash", "audit_conversion"):
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_delete"))
        connection.execute(text(f"DELETE FROM {table}"))


@pytest.mark.parametrize("forge, bad_seq, problem", [
    (forge_former_hash, 7, "differs from what the conversion at 7 signed"),
    (forge_conversion, 7, "conversion at 7 is not signed by the key"),
    (rewrite_chain, 7, "differs from what the conversion at 7 signed"),
    (remove_conversion, 1, "event 1 differs from the witnessed chain"),
])
def test_a_forged_conversion_is_caught(converted, forge, bad_seq, problem):
    app, witness_file = converted
    with db.engine(app).begin() as connection:
        forge(connection)
    result = verdict(app, witness_file)
    assert not result.ok and result.bad_seq == bad_seq and problem in result.problem, result
