"""Near-duplicate pictures: the same receipt, box or ID re-encoded, resized, cropped or
brightened is found in every other case, through an index, at any scale.

The hash (``evidence.phash``) is a DCT pHash of the picture's content (background cut
off). Two pictures are near-duplicates when their 64-bit hashes differ in at most
``THRESHOLD`` bits. Measured on generated receipt photos (``tests/pictures.py``: logo,
shop name, items, totals, barcode, photographed on a table), 5 shop layouts:

========================================================= ==========================
copy of the same receipt                                  bits apart (worst seen)
========================================================= ==========================
JPEG quality 85; resized -10 % .. +10 %                   2
cropped 2-3 % off any edge; brightness +-10 %             2
cropped 5 % off the top or bottom (more than asked)       4-6
another receipt of the same layout, 3-10 item lines       6 and more (median 16; 225 pairs)
another receipt of the same layout, same line count       2 in 1 pair of 225 (median 10)
========================================================= ==========================

Hence ``THRESHOLD = 3``: every asked-for copy matches, receipts of one layout with a
different number of lines never did. Receipts of one layout with the *same* number of
lines can (1 pair in 225 at distance 2): a global 64-bit hash sees the layout, not the
amounts. So a match is a failed check with the other case linked for an agent to
compare, never a refusal by itself.

Compared kinds (``COMPARED``): receipts, box photos and ID documents, the papers one
purchase or one person has. Device photos, IMEI screenshots, SIM proofs and "other" are
not: two phones of one model photographed on a desk, or two screenshots of the same
settings page, legitimately look alike.

The index: ``PictureHashChunk`` keeps each hash as four 16-bit chunks, indexed by
(chunk number, value). Two hashes within 3 bits differ in at most 3 chunks (pigeonhole),
so they agree exactly on at least one: looking up the four exact chunks finds EVERY
stored hash within ``THRESHOLD``; the exact distance is then computed on those
candidates only (~60 at 1,000,000 random pictures). Chunks are written in the same
transaction as their evidence row and removed with it (ON DELETE CASCADE).

Hashes stored before migration ``trust2_d_1`` are dHashes (which told two receipts of one
layout apart by a single bit): ``flask evidence rehash`` (``rehash``) computes each
picture's hash again from its stored copy, each picture decoded outside any transaction
and written, with its chunks and an ``evidence.rehashed`` audit event, in a short one.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

from PIL import Image
from sqlmodel import Session, and_, delete, or_, select

from .. import audit, db
from ..models import Case, Evidence, EvidenceKind, PictureHashChunk
from ..storage import Storage

#: most bits two hashes may differ in and still be the same picture; at most 3, or the
#: four exact chunk look-ups no longer find every match (see the module docstring)
THRESHOLD = 3
COMPARED = frozenset({EvidenceKind.receipt, EvidenceKind.box_photo, EvidenceKind.id_document})


@dataclass(frozen=True)
class Match:
    evidence_id: int
    case_id: int
    distance: int


def chunks(phash: str) -> list[tuple[int, int]]:
    """(chunk number, 16-bit value) for each quarter of the hash, most significant first."""
    bits = int(phash, 16)
    return [(number, (bits >> (48 - 16 * number)) & 0xFFFF) for number in range(4)]


def distance(first: str, second: str) -> int:
    """Hamming distance: the number of bits two hashes differ in."""
    return bin(int(first, 16) ^ int(second, 16)).count("1")


def index(session: Session, evidence: Evidence) -> None:
    """Add the chunks of ``evidence``'s hash (none without a hash); flushes, in the caller's transaction."""
    if evidence.phash:
        session.add_all(PictureHashChunk(evidence_id=evidence.id, chunk_no=number, chunk_value=value)
                        for number, value in chunks(evidence.phash))
        session.flush()


def near(session: Session, phash: str, *, kinds=COMPARED) -> list[Match]:
    """Every stored picture of ``kinds`` within ``THRESHOLD`` bits of ``phash``, nearest first."""
    same_chunk = or_(*(and_(PictureHashChunk.chunk_no == number, PictureHashChunk.chunk_value == value)
                       for number, value in chunks(phash)))
    candidates = session.exec(
        select(Evidence.id, Evidence.case_id, Evidence.phash)
        .where(Evidence.id.in_(select(PictureHashChunk.evidence_id).where(same_chunk)), Evidence.kind.in_(kinds)))
    matches = [Match(evidence_id, case_id, distance(phash, other)) for evidence_id, case_id, other in candidates]
    return sorted((match for match in matches if match.distance <= THRESHOLD),
                  key=lambda match: (match.distance, match.evidence_id))


def other_cases(session: Session, case: Case, evidence: list[Evidence]) -> set[int]:
    """Ids of the other cases holding a near-duplicate of one of ``evidence``'s compared pictures."""
    found: set[int] = set()
    for item in evidence:
        if item.kind in COMPARED and item.phash:
            found |= {match.case_id for match in near(session, item.phash) if match.case_id != case.id}
    return found


def rehash(app, files: Storage, *, phash: Callable[[Image.Image], str | None], actor: audit.Actor) -> int:
    """Compute every stored picture's hash again from its viewable copy (a PDF's: its print
    copy, page 1) with ``phash`` (``evidence.phash``, passed in: ``evidence`` imports this
    module); returns how many hashes changed. Safe to run again."""
    with db.transaction(app) as session:
        stored = list(session.exec(select(Evidence.id, Evidence.viewable_sha256, Evidence.print_sha256)
                                   .order_by(Evidence.id)))
    changed = 0
    for evidence_id, viewable, printed in stored:
        area, sha256 = ("viewable", viewable) if viewable else ("print", printed)
        if not sha256 or not files.exists(area, sha256):
            continue
        with Image.open(io.BytesIO(files.open(area, sha256))) as picture:
            new = phash(picture)
        with db.transaction(app) as session:
            changed += _rewrite(session, session.get(Evidence, evidence_id), new, actor)
    return changed


def _rewrite(session: Session, evidence: Evidence | None, new: str | None, actor: audit.Actor) -> bool:
    if evidence is None or evidence.phash == new:
        return False
    session.exec(delete(PictureHashChunk).where(PictureHashChunk.evidence_id == evidence.id))
    before, evidence.phash = evidence.phash, new
    session.add(evidence)
    session.flush()
    index(session, evidence)
    audit.record(session, actor=actor, action="evidence.rehashed", subject=("evidence", evidence.id),
                 case_number=session.get(Case, evidence.case_id).number, before={"phash": before},
                 after={"phash": new})
    return True
