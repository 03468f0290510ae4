"""Backups that restore: taken while the desk writes, restored into a fresh folder and a
fresh database (SQLite and PostgreSQL), the audit trail verifies; a tampered backup, a
non-empty target and a missing stored file are each refused or reported."""
from __future__ import annotations

import json
import os
import tarfile
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from support import audit, create_app, db
from support.backup import database
from support.models import AuditEvent, Case, Evidence, EvidenceKind
from support.storage import storage

ACTOR = audit.Actor("cli", None, "tests")
SIGNING_KEY, PERSONAL_KEY = "11" * 32, "33" * 32


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "AUDIT_SIGNING_KEY": SIGNING_KEY, "AUDIT_PERSONAL_KEY": PERSONAL_KEY,
            "AUDIT_CHECKPOINT_EVERY": 4,
            "AUDIT_WITNESS_FILE": str(tmp_path / "witness.log")}


@pytest.fixture
def fresh_desk(database_url, tmp_path):
    """``fresh_desk(name) -> app``: a new desk in its own folder on an EMPTY database of the
    same kind (a new SQLite file; a new PostgreSQL database owned by the test user, reached
    by the app's role), with the same audit signing key."""
    created, apps = [], []

    def make(name: str = "restored", **settings):
        folder = tmp_path / name
        if database_url.startswith("sqlite"):
            url, owner_url = f"sqlite:///{folder / 'desk.sqlite'}", None
        else:
            base = make_url(os.environ["TEST_DATABASE_URL"])
            database_name = f"{base.database}_r{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database_name}"'))
            admin.dispose()
            created.append(database_name)
            owner_url = base.set(database=database_name).render_as_string(hide_password=False)
            url = make_url(database_url).set(database=database_name).render_as_string(hide_password=False)
        app = create_app({
            "RD_ENV": "testing", "SECRET_KEY": "test-secret", "DATABASE_URL": url, "MIGRATION_DATABASE_URL": owner_url,
            "INSTANCE_PATH": str(folder / "instance"), "UPLOAD_DIR": str(folder / "uploads"),
            "MAIL_OUTBOX_DIR": str(folder / "outbox"), "AUDIT_SIGNING_KEY": SIGNING_KEY,
            "AUDIT_PERSONAL_KEY": PERSONAL_KEY,
            "AUDIT_WITNESS_FILE": str(folder / "witness.log"), "AUDIT_CHECKPOINT_EVERY": 4, **settings,
        })
        apps.append(app)
        return app

    yield make
    for app in apps:
        db.engine(app).dispose()
    if created:
        admin = create_engine(make_url(os.environ["TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def desk(app, make_case):
    """Two cases with evidence files (original, viewable copy, thumbnail) and their events."""
    numbers = []
    for index in range(2):
        case, _token = make_case()
        with app.app_context(), db.transaction(app) as session:
            files = storage()
            original = files.store("originals", f"receipt {index} original".encode())
            viewable = files.store("viewable", f"receipt {index} viewable".encode())
            thumbnail = files.store("thumbnails", f"receipt {index} thumbnail".encode())
            session.add(Evidence(case_id=case.id, kind=EvidenceKind.receipt, sha256=original, viewable_sha256=viewable,
                                 thumbnail_sha256=thumbnail, media_type="image/jpeg", size=20))
            audit.record(session, actor=ACTOR, action="evidence.added", subject=("case", case.number),
                         case_number=case.number)
        numbers.append(case.number)
    return numbers


def events(app) -> int:
    with app.app_context(), db.transaction(app) as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def backup(app, out, *extra):
    return app.test_cli_runner().invoke(args=["backup", str(out), *extra])


def restore(app, source, *extra):
    return app.test_cli_runner().invoke(args=["restore", str(source), *extra])


def test_a_backup_taken_while_the_desk_writes_restores_and_verifies(app, desk, fresh_desk, tmp_path):
    stop, written = threading.Event(), []

    def writer():
        while not stop.is_set():
            with app.app_context(), db.transaction(app) as session:
                audit.record(session, actor=ACTOR, action="test.event", after={"n": len(written)})
            written.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:  # the writer is under way before the backup starts
            stop.wait(0.01)
        result = backup(app, tmp_path / "desk.tar", "--with-files")
        after_backup = len(written)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "6 stored files" in result.output and "copied" in result.output
    with tarfile.open(tmp_path / "desk.tar") as packed:
        assert packed.getnames()[:2] == ["manifest.json", "manifest.sig"]

    restored = fresh_desk()
    result = restore(restored, tmp_path / "desk.tar")
    assert result.exit_code == 0, result.output
    assert "audit trail intact" in result.output and "0 problems" in result.output

    # what was committed before the backup is there; the writer went on after it
    head = events(restored) - 1  # the restore records itself
    assert 20 < head <= events(app) and after_backup <= len(written)
    with restored.app_context(), db.transaction(restored) as session:
        last = audit.head(session)
        assert last.action == "desk.restored" and last.after["audit_verified"] is True
    verified = restored.test_cli_runner().invoke(
        args=["audit", "verify", "--witness", restored.config["AUDIT_WITNESS_FILE"]])
    assert verified.exit_code == 0, verified.output
    with restored.app_context(), db.transaction(restored) as session:
        assert sorted(session.exec(select(Case.number))) == sorted(desk)
        evidence = session.exec(select(Evidence)).first()
        assert storage().open("originals", evidence.sha256).startswith(b"receipt")
        # the restored desk works on: its next events chain onto the restored head
        audit.record(session, actor=ACTOR, action="test.after_restore")
    assert restored.test_cli_runner().invoke(args=["audit", "verify", "--witness",
                                                   restored.config["AUDIT_WITNESS_FILE"]]).exit_code == 0


def test_backup_verify_passes_on_an_intact_folder_backup(app, desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    manifest = json.loads((tmp_path / "desk" / "manifest.json").read_text())
    assert manifest["storage"] == {"location": (tmp_path / "uploads").resolve().as_uri(), "files": 6,
                                   "bytes": manifest["storage"]["bytes"], "files_included": False}
    assert manifest["alembic_revision"] and manifest["database"]["kind"] in ("sqlite", "postgresql")
    lines = [json.loads(line) for line in (tmp_path / "desk" / "files.jsonl").read_text().splitlines()]
    assert {line["area"] for line in lines} == {"originals", "viewable", "thumbnails"}
    assert all(set(line) == {"area", "name", "size", "sha256"} for line in lines)
    result = app.test_cli_runner().invoke(args=["backup", "verify", str(tmp_path / "desk")])
    assert result.exit_code == 0, result.output
    assert "backup intact" in result.output


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("tamper", ["dump", "dump_and_manifest", "witness", "files_list", "extra_member"])
def test_a_tampered_backup_is_detected_and_restores_nothing(app, desk, fresh_desk, tmp_path, tamper):
    folder = tmp_path / "desk"
    assert backup(app, folder).exit_code == 0
    manifest_path = folder / "manifest.json"
    dump = folder / json.loads(manifest_path.read_text())["database"]["file"]
    if tamper == "dump":
        _flip_last_byte(dump)
    elif tamper == "dump_and_manifest":  # the forger recomputes the hash: the signature gives it away
        _flip_last_byte(dump)
        from support.backup.archive import describe
        manifest = json.loads(manifest_path.read_text())
        manifest["members"][0] = describe(dump, dump.name)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    elif tamper == "witness":
        (folder / "audit-witness.log").write_text("")
    elif tamper == "files_list":
        (folder / "files.jsonl").write_text("")
    else:
        (folder / "files").mkdir()
        (folder / "files" / "planted").write_bytes(b"x")
    checked = app.test_cli_runner().invoke(args=["backup", "verify", str(folder)])
    assert checked.exit_code == 1
    assert "backup BROKEN" in checked.output

    restored = fresh_desk()
    result = restore(restored, folder)
    assert result.exit_code == 1
    assert "does not verify" in result.output
    assert database.holds_data(restored.config["MIGRATION_DATABASE_URL"] or restored.config["DATABASE_URL"]) == []


def test_a_backup_from_a_desk_with_another_signing_key_is_refused(app, desk, fresh_desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    other = fresh_desk()
    other.extensions["audit_policy"]._key = None
    other.config["AUDIT_SIGNING_KEY"] = "22" * 32
    other.extensions["audit_policy"].load_key = lambda: audit.load_signing_key(other.config, other.instance_path)
    result = restore(other, tmp_path / "desk")
    assert result.exit_code == 1
    assert "not signed by this desk's audit signing key" in result.output


def test_a_desk_with_another_personal_key_is_refused_before_anything_changes(app, desk, fresh_desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    other = fresh_desk(AUDIT_PERSONAL_KEY="44" * 32)
    result = restore(other, tmp_path / "desk")
    assert result.exit_code == 1
    assert "AUDIT_PERSONAL_KEY" in result.output
    assert database.holds_data(other.config["MIGRATION_DATABASE_URL"] or other.config["DATABASE_URL"]) == []


def test_restore_over_a_desk_that_holds_data_is_refused(app, desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    before = events(app)
    with app.app_context(), db.transaction(app) as session:
        audit.record(session, actor=ACTOR, action="test.after_backup")
    result = restore(app, tmp_path / "desk")
    assert result.exit_code == 1
    assert "holds data" in result.output and "--force" in result.output
    assert events(app) == before + 1  # nothing was replaced


def test_restore_with_force_replaces_the_desk_and_keeps_its_witness_aside(app, desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    before = events(app)
    for number in range(5):
        with app.app_context(), db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.after_backup", after={"n": number})
    result = restore(app, tmp_path / "desk", "--force")
    assert result.exit_code == 0, result.output
    assert "kept as" in result.output
    assert events(app) == before + 1  # the backup's events and desk.restored
    kept = list((tmp_path).glob("witness.log.before-restore-*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0


def test_restore_into_a_migrated_but_empty_desk_is_allowed(app, desk, fresh_desk, tmp_path):
    assert backup(app, tmp_path / "desk").exit_code == 0
    restored = fresh_desk()
    db.upgrade(restored)  # `init-db` was run on the new machine: tables, no rows
    uploads = tmp_path / "restored" / "uploads"
    import shutil
    shutil.copytree(app.config["UPLOAD_DIR"], uploads)
    result = restore(restored, tmp_path / "desk")
    assert result.exit_code == 0, result.output
    assert events(restored) == events(app) + 1  # and desk.restored


def test_a_missing_or_corrupt_stored_file_is_reported(app, desk, fresh_desk, tmp_path):
    import shutil
    assert backup(app, tmp_path / "desk").exit_code == 0  # the list of files, not the files
    restored = fresh_desk()
    uploads = tmp_path / "restored" / "uploads"
    shutil.copytree(app.config["UPLOAD_DIR"], uploads)
    lines = [json.loads(line) for line in (tmp_path / "desk" / "files.jsonl").read_text().splitlines()]
    gone, changed = lines[0], lines[1]
    (uploads / gone["area"] / gone["name"][:2] / gone["name"]).unlink()
    (uploads / changed["area"] / changed["name"][:2] / changed["name"]).write_bytes(b"something else")
    result = restore(restored, tmp_path / "desk")
    assert result.exit_code == 1
    assert f"missing: {gone['area']}/{gone['name']}" in result.output
    assert f"corrupt: {changed['area']}/{changed['name']}" in result.output
    assert "audit trail intact" in result.output  # the database itself came back whole


def test_the_backup_refuses_an_existing_target(app, desk, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "something").write_text("x")
    result = backup(app, tmp_path / "taken")
    assert result.exit_code == 1 and "exists" in result.output
    assert not list(tmp_path.glob(".taken.partial-*"))


def test_pg_tools_get_no_password_in_their_arguments():
    url = "postgresql+psycopg://owner:s3cr:et\\@db.example:6543/desk?sslmode=require"
    with database.libpq_environment(url) as environment:
        assert "PGPASSWORD" not in environment
        assert (environment["PGHOST"], environment["PGPORT"], environment["PGUSER"], environment["PGDATABASE"],
                environment["PGSSLMODE"]) == ("db.example", "6543", "owner", "desk", "require")
        passfile = environment["PGPASSFILE"]
        assert oct(os.stat(passfile).st_mode & 0o777) == "0o600"
        assert open(passfile).read() == "*:*:*:*:s3cr\\:et\\\\\n"
    assert not os.path.exists(passfile)


def test_a_pg_client_older_than_the_server_is_refused_with_what_to_install():
    database.refuse_older_client("pg_dump", 16, 15)
    with pytest.raises(database.DatabaseCopyError, match="postgresql-client-17"):
        database.refuse_older_client("pg_dump", 15, 17)


def test_a_missing_pg_dump_is_named(app, desk, tmp_path, monkeypatch, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_dump serves PostgreSQL only")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    result = backup(app, tmp_path / "desk")
    assert result.exit_code == 1
    assert "pg_dump is not on PATH" in result.output


class TestEvidenceInABucket:
    """The same on S3-compatible storage (a real moto server): the backup lists the bucket,
    the restore writes the files into the new desk's bucket, and checks it."""

    @pytest.fixture
    def app_config(self, app_config, s3_server):
        return {**app_config, **s3_server.config()}

    def test_a_desk_on_a_bucket_restores_into_a_new_bucket(self, app, desk, fresh_desk, tmp_path, s3_server):
        result = backup(app, tmp_path / "desk", "--with-files")
        assert result.exit_code == 0, result.output
        manifest = json.loads((tmp_path / "desk" / "manifest.json").read_text())
        assert manifest["storage"]["location"].startswith("s3://") and manifest["storage"]["files"] == 6
        restored = fresh_desk(**s3_server.config())
        result = restore(restored, tmp_path / "desk")
        assert result.exit_code == 0, result.output
        assert "6 written, 0 problems" in result.output

    def test_an_object_missing_from_the_bucket_is_reported(self, app, desk, fresh_desk, tmp_path):
        assert backup(app, tmp_path / "desk").exit_code == 0  # the list, not the files
        lines = [json.loads(line) for line in (tmp_path / "desk" / "files.jsonl").read_text().splitlines()]
        with app.app_context():
            storage().delete(lines[0]["area"], lines[0]["name"])
        same_bucket = {key: app.config[key] for key in ("STORAGE_URL", "S3_ENDPOINT_URL", "AWS_REGION",
                                                        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        restored = fresh_desk(**same_bucket)
        result = restore(restored, tmp_path / "desk")
        assert result.exit_code == 1
        assert f"missing: {lines[0]['area']}/{lines[0]['name']}" in result.output


def _case(app, number: str) -> Case:
    with app.app_context(), db.transaction(app) as session:
        return session.exec(select(Case).where(Case.number == number)).one()


def _case_files(app, number: str) -> set[tuple[str, str]]:
    with app.app_context(), db.transaction(app) as session:
        case = session.exec(select(Case).where(Case.number == number)).one()
        evidence = session.exec(select(Evidence).where(Evidence.case_id == case.id)).one()
        return {("originals", evidence.sha256), ("viewable", evidence.viewable_sha256),
                ("thumbnails", evidence.thumbnail_sha256)}


def _stored(app, files: set[tuple[str, str]]) -> set[tuple[str, str]]:
    with app.app_context():
        return {(area, name) for area, name in files if storage().exists(area, name)}


def test_a_restore_erases_again_what_was_erased_after_the_backup(app, desk, fresh_desk, tmp_path):
    """A backup taken before an erasure holds the claimant; restoring it must not bring them back."""
    erased, kept = desk
    name, files, kept_files = _case(app, erased).claimant_name, _case_files(app, erased), _case_files(app, kept)
    assert name and backup(app, tmp_path / "desk.tar", "--with-files").exit_code == 0
    result = app.test_cli_runner().invoke(args=["erasure", "erase", erased, "--reason", "request 42", "--open-too",
                                                "--yes"])
    assert result.exit_code == 0, result.output
    ledger = tmp_path / "instance" / "erasure-ledger.log"
    assert [json.loads(line)["case"] for line in ledger.read_text().splitlines()] == [erased]
    assert name not in ledger.read_text()  # the ledger names the case, never the claimant

    restored = fresh_desk()
    result = restore(restored, tmp_path / "desk.tar", "--erasures", str(ledger))
    assert result.exit_code == 0, result.output
    assert f"erased again (erased after the backup was taken): 1: {erased}" in result.output
    assert "audit trail intact" in result.output
    again = _case(restored, erased)
    assert again.erased_at is not None and again.claimant_name == "" and _case(restored, kept).erased_at is None
    assert _stored(restored, files) == set()  # the files the backup brought back go too
    assert _stored(restored, kept_files) == kept_files
    with restored.app_context(), db.transaction(restored) as session:
        erasers = [event.actor_name for event in session.exec(select(AuditEvent)
                                                               .where(AuditEvent.action == "case.erased"))]
        restored_event = session.exec(select(AuditEvent).where(AuditEvent.action == "desk.restored")).one()
    assert erasers == ["restore command"]  # the backup predates the first erasure: this one is the restore's
    assert restored_event.after["erased_again"] == 1
    assert restored.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    # a second restore of the same backup over it, with --force: erased again, once more
    result = restore(restored, tmp_path / "desk.tar", "--force", "--erasures", str(ledger))
    assert result.exit_code == 0 and f"1: {erased}" in result.output


def test_a_restore_without_a_ledger_says_what_it_could_not_erase_again(app, desk, fresh_desk, tmp_path):
    assert backup(app, tmp_path / "desk.tar", "--with-files").exit_code == 0
    result = restore(fresh_desk(), tmp_path / "desk.tar")
    assert result.exit_code == 0 and "no erasure ledger" in result.output, result.output
    refused = restore(fresh_desk("other"), tmp_path / "desk.tar", "--erasures", str(tmp_path / "nowhere.log"))
    assert refused.exit_code != 0 and "no erasure ledger at" in refused.output


def test_the_ledger_catches_up_with_an_erasure_whose_line_was_lost(app, desk, tmp_path):
    from support import erasure_ledger

    erased = desk[0]
    assert app.test_cli_runner().invoke(args=["erasure", "erase", erased, "--reason", "r", "--open-too",
                                              "--yes"]).exit_code == 0
    ledger = erasure_ledger.path_of(app)
    ledger.unlink()  # the process died between the commit and the line
    assert erasure_ledger.catch_up(app) == 1 and erasure_ledger.catch_up(app) == 0
    assert list(erasure_ledger.read([ledger])) == [erased]
