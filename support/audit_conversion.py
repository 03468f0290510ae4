"""Rewrite an audit trail written before personal values left its text, without breaking it.

Events written before ``shred_2`` hold emails, phones and names in their hashed text. The
conversion tokenises each event as ``audit.record`` does now (``personal_data.tokenise``),
moves the values to ``personal_value``, recomputes the whole chain, and keeps each event's
former hash (``audit_former_hash``). One Ed25519 signature (``audit_conversion``) binds the
former head to the new one and every former hash to its new hash, so that checkpoints and
witness lines signed before the conversion still verify against the hashes they signed,
and nobody without the signing key can pass off other former hashes. It runs inside the
migration, on the migration's connection, before anything else can append.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select

from .models import AuditConversion, AuditEvent, AuditFormerHash, PersonalValue, utcnow
from .personal_data import tokenise

KIND = "personal_values"

# the tables as the models type them (JSON, UTC times); only the columns this revision knows
_events = AuditEvent.__table__
_values = PersonalValue.__table__
_conversions = AuditConversion.__table__
_former = AuditFormerHash.__table__
_REWRITTEN = ("canonical", "prev_hash", "hash", "actor_name", "before", "after", "reason", "ip", "user_agent")


def digest(canonical: str, prev_hash: str) -> str:
    """``audit._digest``, repeated so this module needs nothing of the app's audit code."""
    return hashlib.sha256((canonical + prev_hash).encode()).hexdigest()


def hashes_digest(pairs: list[tuple[int, str, str]]) -> str:
    """SHA-256 over "seq:former:new" lines: what the conversion's signature covers of every event."""
    return hashlib.sha256("".join(f"{seq}:{old}:{new}\n" for seq, old, new in pairs).encode()).hexdigest()


def statement(kind: str, seq: int, old_head: str, new_head: str, hashes: str, at: datetime) -> bytes:
    return f"conversion|{kind}|{seq}|{old_head}|{new_head}|{hashes}|{at.isoformat()}".encode()


def convert(connection: Connection, *, personal_key: bytes, signing_key: Ed25519PrivateKey) -> int | None:
    """Convert every event; returns the head's sequence number, None when there was nothing to do.

    The caller has lifted the append-only triggers of ``audit_event`` for the duration.
    """
    rows = connection.execute(select(*(_events.c[name] for name in ("seq", *_REWRITTEN)))
                              .order_by(_events.c.seq)).mappings().all()
    if not rows:
        return None
    stored = {(row.subject, row.fingerprint) for row in connection.execute(
        select(_values.c.subject, _values.c.fingerprint))}
    prev_hash, pairs, kept = "0" * 64, [], {}
    for row in rows:
        fields, subject, found = tokenise(json.loads(row["canonical"]), personal_key)
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        new_hash = digest(canonical, prev_hash)
        pairs.append((row["seq"], row["hash"], new_hash))
        if new_hash != row["hash"]:
            connection.execute(_events.update().where(_events.c.seq == row["seq"]).values(
                canonical=canonical, prev_hash=prev_hash, hash=new_hash, actor_name=fields["actor_name"],
                before=fields["before"], after=fields["after"], reason=fields["reason"], ip=fields["ip"],
                user_agent=fields["user_agent"]))
        for fingerprint, value in found.items():
            if (subject, fingerprint) not in stored:
                kept[(subject, fingerprint)] = value
        prev_hash = new_hash
    if all(old == new for _seq, old, new in pairs):
        return None
    if kept:
        connection.execute(_values.insert(), [{"subject": subject, "fingerprint": fingerprint, "value": value}
                                              for (subject, fingerprint), value in kept.items()])
    head_seq, old_head, new_head = pairs[-1]
    at, summary = utcnow(), hashes_digest(pairs)
    conversion_id = connection.execute(_conversions.insert().values(
        kind=KIND, seq=head_seq, old_head_hash=old_head, new_head_hash=new_head, hashes_digest=summary, at=at,
        signature=signing_key.sign(statement(KIND, head_seq, old_head, new_head, summary, at)).hex(),
        public_key=signing_key.public_key().public_bytes_raw().hex(),
    ).returning(_conversions.c.id)).scalar_one()
    for start in range(0, len(pairs), 1000):
        connection.execute(_former.insert(), [{"seq": seq, "conversion_id": conversion_id, "hash": old}
                                              for seq, old, _new in pairs[start:start + 1000]])
    return head_seq
