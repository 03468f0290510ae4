"""Near-duplicate pictures: the same receipt altered by a reseller is found in other cases,
another receipt of the same shop is not, and the index finds exactly what a full scan finds."""
from __future__ import annotations

import io
import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from PIL import Image
from sqlmodel import delete, select

from support import db, evidence
from support.evidence import near_duplicates
from support.models import AuditEvent, CaseKind, CaseStatus, Evidence, EvidenceKind, PictureHashChunk, Role

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pictures  # noqa: E402

CONFIG = {"MAX_FILE_MB": 15, "MAX_IMAGE_PIXELS": 50_000_000}
SHOP = pictures.template(1)
ORIGINAL = pictures.receipt(SHOP, seed=1)
COPIES = {
    "re-encoded at quality 85": lambda image: pictures.reencoded(image, 85),
    "resized +1 %": lambda image: pictures.resized(image, 1),
    "resized -1 %": lambda image: pictures.resized(image, -1),
    "resized +5 %": lambda image: pictures.resized(image, 5),
    "resized -10 %": lambda image: pictures.resized(image, -10),
    **{f"cropped {percent} % off the {edge}": (lambda percent, edge: lambda image: pictures.cropped(image, percent, edge))(percent, edge)
       for percent in (2, 3) for edge in ("left", "right", "top", "bottom")},
    "10 % brighter": lambda image: pictures.brightened(image, 10),
    "10 % darker": lambda image: pictures.brightened(image, -10),
}


def hash_of(data: bytes) -> str:
    """The hash the upload pipeline stores for these bytes."""
    return evidence.inspect(evidence.Upload("receipt.jpg", data, EvidenceKind.receipt), CONFIG).phash


@pytest.mark.parametrize("alteration", COPIES)
def test_an_altered_copy_of_a_receipt_is_a_near_duplicate(alteration):
    original = hash_of(pictures.jpeg(ORIGINAL))
    copy = pictures.jpeg(COPIES[alteration](ORIGINAL))
    assert near_duplicates.distance(original, hash_of(copy)) <= near_duplicates.THRESHOLD


def test_different_receipts_of_one_shop_layout_are_not_near_duplicates():
    hashes = [hash_of(pictures.jpeg(pictures.receipt(SHOP, seed))) for seed in range(2, 9)]
    for first, second in itertools.combinations(hashes, 2):
        assert near_duplicates.distance(first, second) > near_duplicates.THRESHOLD


def test_a_blank_or_tiny_picture_gets_no_hash():
    assert hash_of(pictures.jpeg(Image.new("RGB", (400, 300), (200, 40, 40)))) is None
    assert hash_of(pictures.jpeg(ORIGINAL.resize((20, 31)))) is None
    assert hash_of(pictures.jpeg(ORIGINAL.resize((32, 50)))) is not None


def test_a_pdf_scan_is_hashed_by_its_first_page():
    scan = Image.open(io.BytesIO(pictures.jpeg(ORIGINAL)))
    pdf = io.BytesIO()
    scan.save(pdf, "PDF", resolution=150)
    assert evidence.inspect(evidence.Upload("receipt.pdf", pdf.getvalue(), EvidenceKind.receipt), CONFIG).phash is None
    pdf_hash = evidence.pdf.pdf_pictures(pdf.getvalue(), EvidenceKind.receipt)[2]  # drawn by the worker
    assert near_duplicates.distance(pdf_hash, hash_of(pictures.jpeg(ORIGINAL))) <= near_duplicates.THRESHOLD


def result(case, code):
    return next(check for check in case.checks if check["code"] == code)


def test_a_cropped_receipt_in_another_case_fails_like_the_same_file(client, login, make_case, attach, refreshed):
    first, _ = make_case(kind=CaseKind.device_unbind, contact_email="first@example.test")
    second, _ = make_case(kind=CaseKind.device_unbind, contact_email="second@example.test", status=CaseStatus.in_review)
    attach(first.number, EvidenceKind.receipt, pictures.jpeg(ORIGINAL))
    attach(second.number, EvidenceKind.receipt, pictures.jpeg(pictures.cropped(ORIGINAL, 3, "left")))
    case = refreshed(second.number)
    same = result(case, "same_evidence")
    assert (same["result"], same["links"]) == ("fail", [first.number])
    assert same["detail"] == "a near-duplicate picture was uploaded to another case"
    assert case.risk_score >= 40
    login(Role.agent)
    assert "почти такое же изображение загружено в другое обращение" in client.get(f"/cases/{second.number}?lang=ru").text
    assert "una foto quasi identica" in client.get(f"/cases/{second.number}?lang=it").text


def test_the_same_file_and_a_near_duplicate_link_both_cases(make_case, attach, refreshed):
    original = pictures.jpeg(ORIGINAL)
    same_file, _ = make_case(contact_email="a@example.test")
    alike, _ = make_case(contact_email="b@example.test")
    third, _ = make_case(contact_email="c@example.test")
    attach(same_file.number, EvidenceKind.receipt, original)
    attach(alike.number, EvidenceKind.box_photo, pictures.jpeg(pictures.resized(ORIGINAL, 5)))
    attach(third.number, EvidenceKind.receipt, original)
    same = result(refreshed(third.number), "same_evidence")
    assert same["detail"] == "the same file was uploaded to another case"
    assert same["links"] == [same_file.number, alike.number]


def test_look_alike_device_photos_and_other_receipts_do_not_count(make_case, attach, refreshed):
    first, _ = make_case(contact_email="a@example.test")
    second, _ = make_case(contact_email="b@example.test")
    attach(first.number, EvidenceKind.device_photo, pictures.jpeg(ORIGINAL))
    attach(first.number, EvidenceKind.receipt, pictures.jpeg(pictures.receipt(SHOP, seed=2)))
    attach(second.number, EvidenceKind.device_photo, pictures.jpeg(pictures.reencoded(ORIGINAL)))
    attach(second.number, EvidenceKind.receipt, pictures.jpeg(pictures.receipt(SHOP, seed=3)))
    assert result(refreshed(second.number), "same_evidence")["result"] == "pass"


def test_each_picture_is_indexed_in_its_own_transaction(app, make_case, attach, session):
    case, _ = make_case()
    item = attach(case.number, EvidenceKind.receipt, pictures.jpeg(ORIGINAL))
    stored = session.exec(select(PictureHashChunk.chunk_no, PictureHashChunk.chunk_value)
                          .where(PictureHashChunk.evidence_id == item.id).order_by(PictureHashChunk.chunk_no)).all()
    assert [tuple(row) for row in stored] == near_duplicates.chunks(item.phash)
    session.delete(session.get(Evidence, item.id))
    session.flush()
    assert not session.exec(select(PictureHashChunk).where(PictureHashChunk.evidence_id == item.id)).all()


def _flipped(phash: str, bits: int, rng: random.Random) -> str:
    value = int(phash, 16)
    for position in rng.sample(range(64), bits):
        value ^= 1 << position
    return f"{value:016x}"


def test_the_index_finds_every_hash_within_the_threshold_and_none_beyond(app, make_case):
    """Property-style: random stored hashes, queries 0..THRESHOLD+3 bits from one of them
    (and from nothing), each answer compared with a brute-force scan of every stored hash."""
    rng = random.Random(11)
    case, _ = make_case()
    with app.app_context(), db.transaction(app) as session:
        stored = [f"{rng.getrandbits(64):016x}" for _ in range(300)]
        # near neighbours of a few stored hashes, so that matches sit at every distance
        stored += [_flipped(stored[n], n % 6, rng) for n in range(60)]
        for number, phash in enumerate(stored):
            item = Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256=f"{number:064x}", media_type="image/jpeg",
                            size=1, phash=phash)
            session.add(item)
            session.flush()
            near_duplicates.index(session, item)
        rows = list(session.exec(select(Evidence.id, Evidence.phash)))
    checked = 0
    with app.app_context(), db.transaction(app) as session:
        for round_no in range(200):
            query = _flipped(rng.choice(stored), round_no % (near_duplicates.THRESHOLD + 4), rng) if round_no % 10 \
                else f"{rng.getrandbits(64):016x}"
            found = {match.evidence_id for match in near_duplicates.near(session, query)}
            expected = {item_id for item_id, phash in rows if near_duplicates.distance(query, phash) <= near_duplicates.THRESHOLD}
            assert found == expected, query
            checked += bool(expected)
        assert checked > 100  # most queries had something to find


def test_the_migration_backfills_the_index_from_stored_hashes(app, make_case, attach, migration_database_url):
    case, _ = make_case()
    item = attach(case.number, EvidenceKind.receipt, pictures.jpeg(ORIGINAL))
    config = AlembicConfig()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    owner = db.make_engine(migration_database_url) if migration_database_url else db.engine(app)
    with owner.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, ScriptDirectory.from_config(config).get_revision("trust2_d_1").down_revision)
        connection.commit()
    if migration_database_url:
        owner.dispose()
    db.upgrade(app)
    with app.app_context(), db.transaction(app) as session:
        stored = session.exec(select(PictureHashChunk.chunk_no, PictureHashChunk.chunk_value)
                              .where(PictureHashChunk.evidence_id == item.id).order_by(PictureHashChunk.chunk_no)).all()
        assert [tuple(row) for row in stored] == near_duplicates.chunks(item.phash)
        assert [match.evidence_id for match in near_duplicates.near(session, item.phash)] == [item.id]


def test_the_near_duplicate_bench_finds_every_planted_copy_and_ends_with_one_json_line():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "bench" / "near_duplicates.py"), "--pictures", "3000",
                             "--planted", "20", "--lookups", "30"], capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["pictures"], summary["planted"], summary["missed"]) == (3000, 20, 0)
    assert {"baseline: evidence by primary key", "near-duplicate of a planted copy"} <= set(summary["figures"])


def test_rehash_replaces_a_hash_stored_before_the_migration_and_is_audited(app, runner, make_case, attach):
    case, _ = make_case()
    item = attach(case.number, EvidenceKind.receipt, pictures.jpeg(ORIGINAL))
    legacy = f"{int(item.phash, 16) ^ 0xFFFF_0000_0000_00FF:016x}"  # what a dHash of it looked like: far off
    with app.app_context(), db.transaction(app) as session:
        stored = session.get(Evidence, item.id)
        session.exec(delete(PictureHashChunk).where(PictureHashChunk.evidence_id == item.id))
        stored.phash = legacy
        session.add(stored)
        session.flush()
        near_duplicates.index(session, stored)
    assert "1 picture hashes changed" in runner.invoke(args=["rehash-pictures"]).output
    assert "0 picture hashes changed" in runner.invoke(args=["rehash-pictures"]).output
    with app.app_context(), db.transaction(app) as session:
        rehashed = session.get(Evidence, item.id).phash  # from the viewable copy, a re-encoding: a bit or two off
        assert near_duplicates.distance(rehashed, item.phash) <= near_duplicates.THRESHOLD
        assert [match.evidence_id for match in near_duplicates.near(session, item.phash)] == [item.id]
        assert not near_duplicates.near(session, legacy)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.rehashed")).one()
        assert (event.before, event.after) == ({"phash": legacy}, {"phash": rehashed})
