"""The tamper-evident audit trail: append, verify, sign checkpoints.

Each event stores the canonical JSON text it was hashed from; ``hash`` is SHA-256 over
that text followed by ``prev_hash``. Personal values are in that text only as keyed
fingerprints, the values live in ``personal_value`` (``personal_data``, ``personal``), so
they can be erased without touching a hash. Verification re-hashes the stored text (never a
re-serialisation of objects read back) and checks that the columns still say what the
text says. Appends are serialised (SQLite BEGIN IMMEDIATE, a PostgreSQL advisory lock)
and ``prev_hash`` is unique, so the chain cannot fork. Signed checkpoints catch a chain
rewritten with recomputed hashes or cut short; checkpoints witnessed outside the database
(``witness``) catch it even when the checkpoints in the database went with it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session, select

from . import audit_conversion, personal_data
from .models import AuditCheckpoint, AuditConversion, AuditEvent, AuditFormerHash, AuditVerification, utcnow

GENESIS = "0" * 64
_ADVISORY_LOCK = 7_270_001  # any constant: one lock for the whole chain
_HASHED_FIELDS = (
    "seq", "at", "actor_type", "actor_id", "actor_name", "action", "subject_type",
    "subject_id", "case_number", "before", "after", "reason", "ip", "user_agent", "request_id",
)


@dataclass(frozen=True)
class Actor:
    """Who did it: ``type`` is agent, claimant, account, system or cli."""

    type: str
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where the request came from."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = Actor("system", None, "Recovery Desk")


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates become ISO text), so stored and hashed data agree."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def _canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(canonical: str, prev_hash: str) -> str:
    return hashlib.sha256((canonical + prev_hash).encode()).hexdigest()


def lock_chain(session: Session) -> None:
    """Hold the chain's lock until the transaction ends: appends one at a time (``lock_order``
    takes it early, before a transaction's first write)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_ADVISORY_LOCK))
    # SQLite: the transaction already began IMMEDIATE (see db.make_engine).


def head(session: Session) -> AuditEvent | None:
    return session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject: tuple[str, Any] | None = None,
    case_number: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; it commits or rolls back with it.

    The personal values of the event's data subject are written as keyed fingerprints
    (``personal_data``) and kept in ``personal_value`` in the same transaction.
    """
    lock_chain(session)
    last = head(session)
    origin = origin or Origin()
    fields = {
        "seq": (last.seq + 1) if last else 1,
        "at": utcnow().isoformat(),
        "actor_type": actor.type,
        "actor_id": None if actor.id is None else str(actor.id),
        "actor_name": actor.name,
        "action": action,
        "subject_type": subject[0] if subject else None,
        "subject_id": str(subject[1]) if subject else None,
        "case_number": case_number,
        "before": _plain(before),
        "after": _plain(after),
        "reason": reason,
        "ip": origin.ip,
        "user_agent": (origin.user_agent or "")[:400] or None,
        "request_id": origin.request_id,
    }
    subject = personal_data.data_subject(fields)
    if subject is not None:  # the subject's values leave the hashed text for personal_value
        fields, subject, found = personal_data.tokenise(fields, personal_data.key_of(session))
        personal_data.keep(session, subject, found)
    canonical = _canonical(fields)
    prev_hash = last.hash if last else GENESIS
    event = AuditEvent(
        **{**fields, "at": datetime.fromisoformat(fields["at"])},
        canonical=canonical,
        prev_hash=prev_hash,
        hash=_digest(canonical, prev_hash),
    )
    session.add(event)
    session.flush()
    return event


def as_dict(event: AuditEvent, personal: dict | None = None) -> dict:
    """The event as exported (JSON Lines, report attachments): its hashed fields and hashes, and
    ``personal``, the values its tokens stand for (``personal.personal_map``), when it has any.
    A verifier hashes the fields alone, as they are."""
    exported = {**json.loads(event.canonical), "prev_hash": event.prev_hash, "hash": event.hash}
    return {**exported, "personal": personal} if personal else exported


def _columns(event: AuditEvent) -> dict:
    values = {name: getattr(event, name) for name in _HASHED_FIELDS}
    values["at"] = event.at.isoformat()
    return _plain(values)


@dataclass
class Verdict:
    ok: bool
    count: int
    head_hash: str
    bad_seq: int | None = None
    problem: str | None = None


def _events(session: Session) -> Iterator[AuditEvent]:
    yield from session.exec(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000))


def verify(session: Session, public_key: Ed25519PublicKey | None = None,
           witnessed: Iterable[dict] = ()) -> Verdict:
    """Recompute the chain and check every checkpoint; name the first bad sequence number.

    ``witnessed`` are checkpoints kept outside the database (``witness.read``): an event
    they saw that is missing, or whose hash changed, is named even when the database's
    own checkpoints were removed with it.
    """
    hashes, broken = _walk(session)
    signed_chain = _signed_chain(session, hashes, public_key, broken)
    if isinstance(signed_chain, Verdict):
        return signed_chain
    verdict = _against_witness(witnessed, signed_chain, public_key, broken) or broken
    if verdict:
        return verdict
    count, head_hash = len(hashes), hashes[len(hashes)] if hashes else GENESIS
    for checkpoint in session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)):
        problem = _checkpoint_problem(checkpoint, signed_chain(checkpoint.at), public_key)
        if problem:
            return Verdict(False, count, head_hash, checkpoint.seq, problem)
    return Verdict(True, count, head_hash)


def _signed_chain(session: Session, hashes: dict[int, str], public_key, broken: Verdict | None):
    """``at -> {seq: hash}``: the hashes a checkpoint signed at ``at`` saw. Before the conversion
    (``audit_conversion``) that rewrote the text, those are the former hashes it signed; a
    Verdict when the conversion's signature does not bind the former hashes to today's."""
    conversion = session.exec(select(AuditConversion).order_by(AuditConversion.id).limit(1)).first()
    if conversion is None:
        return lambda _at: hashes
    former = dict(session.exec(select(AuditFormerHash.seq, AuditFormerHash.hash)
                               .where(AuditFormerHash.conversion_id == conversion.id)).all())
    end = broken.bad_seq if broken else len(hashes) + 1
    if conversion.seq < end:  # a chain broken before the conversion's head is named by the walk
        problem = _conversion_problem(conversion, former, hashes, public_key)
        if problem:
            return Verdict(False, len(hashes), hashes.get(end - 1, GENESIS), conversion.seq, problem)
    before = {**hashes, **former}
    return lambda at: before if at < conversion.at else hashes


def _conversion_problem(conversion: AuditConversion, former: dict[int, str], hashes: dict[int, str],
                        public_key) -> str | None:
    seqs = range(1, conversion.seq + 1)
    if any(seq not in former for seq in seqs) or len(former) != conversion.seq:
        return f"the former hashes of the conversion at {conversion.seq} are incomplete"
    pairs = [(seq, former[seq], hashes[seq]) for seq in seqs]
    summary = audit_conversion.hashes_digest(pairs)
    signed = audit_conversion.statement(conversion.kind, conversion.seq, conversion.old_head_hash,
                                        conversion.new_head_hash, conversion.hashes_digest, conversion.at)
    if (summary != conversion.hashes_digest or former[conversion.seq] != conversion.old_head_hash
            or hashes[conversion.seq] != conversion.new_head_hash):
        return f"the chain differs from what the conversion at {conversion.seq} signed"
    if not _signed(signed, conversion.signature, conversion.public_key, public_key):
        return f"the conversion at {conversion.seq} is not signed by the key"
    return None


def _walk(session: Session) -> tuple[dict[int, str], Verdict | None]:
    """The hash of every sound event up to the first broken one, and the verdict on that one."""
    expected_seq, prev_hash, hashes = 1, GENESIS, {}
    for event in _events(session):
        problem = None
        if event.seq != expected_seq:
            return hashes, Verdict(False, len(hashes), prev_hash, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            problem = "does not link to the event before it"
        elif _digest(event.canonical, event.prev_hash) != event.hash:
            problem = "hash does not match its stored text"
        elif _columns(event) != json.loads(event.canonical):
            problem = "columns differ from the hashed text"
        if problem:
            return hashes, Verdict(False, len(hashes), prev_hash, event.seq, problem)
        hashes[event.seq] = prev_hash = event.hash
        expected_seq += 1
    return hashes, None


def _against_witness(witnessed: Iterable[dict], signed_chain, public_key,
                     broken: Verdict | None) -> Verdict | None:
    """The first event a witnessed checkpoint saw that is missing or different now."""
    today = signed_chain(datetime.max.replace(tzinfo=timezone.utc))
    end = broken.bad_seq if broken else len(today) + 1  # first sequence number the chain cannot vouch for
    head_hash = today.get(end - 1, GENESIS)
    first_bad, problem = None, None
    for line in witnessed:
        at = datetime.fromisoformat(line["at"])
        hashes = signed_chain(at)
        statement = _statement(line["seq"], line["head_hash"], at)
        if not _signed(statement, line["signature"], line["public_key"], public_key):
            return Verdict(False, len(today), head_hash, line["seq"],
                           f"witness line at {line['seq']} is not signed by the key")
        seen = dict(enumerate(line["hashes"], start=line["first_seq"]))
        seen[line["seq"]] = line["head_hash"]
        for seq in sorted(seen):
            if first_bad is not None and seq >= first_bad:
                break
            if seq >= end and not broken:
                first_bad = end
                problem = (f"event {end} is missing: the witness saw the chain reach {line['seq']} "
                           "(cut short or rolled back)")
            elif seq < end and hashes[seq] != seen[seq]:
                first_bad, problem = seq, f"event {seq} differs from the witnessed chain (checkpoint {line['seq']})"
    if first_bad is None:
        return None
    return Verdict(False, len(today), head_hash, first_bad, problem)


def _signed(statement: bytes, signature: str, signer: str, public_key: Ed25519PublicKey | None) -> bool:
    if public_key is not None and public_key.public_bytes_raw().hex() != signer:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(signer)).verify(bytes.fromhex(signature), statement)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- signed checkpoints -----------------------------------------------------------------


def _statement(seq: int, head_hash: str, at: datetime) -> bytes:
    return f"{seq}|{head_hash}|{at.isoformat()}".encode()


def _checkpoint_problem(checkpoint: AuditCheckpoint, hashes: dict, public_key) -> str | None:
    if checkpoint.seq not in hashes:
        return f"checkpoint at {checkpoint.seq} is beyond the end of the chain (cut short)"
    if hashes[checkpoint.seq] != checkpoint.head_hash:
        return f"chain differs from the checkpoint signed at {checkpoint.seq}"
    key = public_key or Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
    if public_key and public_key.public_bytes_raw().hex() != checkpoint.public_key:
        return f"checkpoint at {checkpoint.seq} was signed by an unknown key"
    try:
        key.verify(bytes.fromhex(checkpoint.signature), _statement(checkpoint.seq, checkpoint.head_hash, checkpoint.at))
    except InvalidSignature:
        return f"checkpoint at {checkpoint.seq} has a bad signature"
    return None


def load_signing_key(config: dict, instance_path: str) -> Ed25519PrivateKey:
    """The Ed25519 key from AUDIT_SIGNING_KEY (hex seed); generated into instance/ outside production."""
    seed = config.get("AUDIT_SIGNING_KEY")
    if not seed:
        if config["RD_ENV"] == "production":
            raise RuntimeError("AUDIT_SIGNING_KEY must be set in production.")
        path = Path(instance_path) / "audit_signing_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Ed25519PrivateKey.generate().private_bytes_raw().hex())
            path.chmod(0o600)
        seed = path.read_text().strip()
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))


def checkpoint(session: Session, key: Ed25519PrivateKey) -> AuditCheckpoint:
    """Sign the current head and store the checkpoint."""
    lock_chain(session)
    last = head(session)
    if last is None:
        raise ValueError("the audit trail is empty: nothing to sign")
    at = utcnow()
    signed = AuditCheckpoint(
        seq=last.seq,
        head_hash=last.hash,
        at=at,
        signature=key.sign(_statement(last.seq, last.hash, at)).hex(),
        public_key=key.public_key().public_bytes_raw().hex(),
    )
    session.add(signed)
    session.flush()
    return signed


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()


# -- stored verifications ---------------------------------------------------------------


def record_verification(session: Session, verdict: Verdict, *, by: str) -> AuditVerification:
    """Keep ``verdict`` so the audit page can say how far the chain was last verified, and when."""
    row = AuditVerification(at=utcnow(), ok=verdict.ok, seq=verdict.count, head_hash=verdict.head_hash,
                            bad_seq=verdict.bad_seq, problem=(verdict.problem or "")[:300] or None, by=by)
    session.add(row)
    session.flush()
    return row


def latest_verification(session: Session) -> AuditVerification | None:
    return session.exec(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)).first()
