"""A stored file is deleted only when no committed row references it.

Files are content-addressed, so two cases can share one picture. Two requests run at
once in threads, ordered by events (not by sleeping): request A stores a picture and then
fails (or the purge of unreferenced files runs), request B attaches the same picture to
another case and commits. Each runs on the local folder and on an S3 bucket.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from intake_samples import jpeg
from sqlmodel import Session, select

from support import cases, db, evidence, written
from support.intake import staging
from support.models import Case, Evidence, EvidenceKind
from support.storage import AREAS, for_app

WAIT = 60  # seconds a thread waits for the other before the test gives up (never reached when it works)


@pytest.fixture
def app_config(app_config, storage_settings):
    return {**app_config, **storage_settings}


def stored_files(app) -> list[tuple[str, str]]:
    files = for_app(app)
    return [(area, entry.name) for area in AREAS for entry in files.entries(area)]


class Failed(Exception):
    """Request A's failure after storing (a slow bad PDF, a refused step, a lost connection)."""


def _run(*targets):
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not errors, errors


def _inspected(app):
    with app.test_request_context():
        return evidence.inspect(evidence.Upload("same.jpg", jpeg(), EvidenceKind.box_photo), app.config)


def _store_then_fail(app, picture, stored: threading.Event, go_on: threading.Event):
    """Request A: stores the picture's files, then fails before any row names them."""
    def request_a():
        with app.test_request_context():
            try:
                with db.transaction(app) as session:
                    files = written.of(session, for_app(app))
                    for area, data in [("originals", picture.upload.data), ("thumbnails", picture.thumbnail),
                                       ("print", picture.printed), ("viewable", picture.viewable)]:
                        files.store(area, data)
                    stored.set()
                    assert go_on.wait(WAIT)
                    raise Failed()
            except Failed:
                pass
    return request_a


def _files_of(app, number: str) -> list[tuple[str, str]]:
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        item = session.exec(select(Evidence).where(Evidence.case_id == case.id)).one()
        return [("originals", item.sha256), ("viewable", item.viewable_sha256),
                ("thumbnails", item.thumbnail_sha256), ("print", item.print_sha256)]


def _all_there(app, keys) -> bool:
    files = for_app(app)
    return all(files.exists(area, sha256) for area, sha256 in keys)


def test_a_failed_request_keeps_a_file_another_request_committed_meanwhile(app, make_case):
    other, _ = make_case()
    picture = _inspected(app)
    a_stored, b_committed = threading.Event(), threading.Event()

    def request_b():
        assert a_stored.wait(WAIT)
        with app.test_request_context(), db.transaction(app) as session:
            evidence.attach(session, case=session.get(Case, other.id), upload=picture, uploaded_by="claimant",
                            config=app.config)
        b_committed.set()

    _run(_store_then_fail(app, picture, a_stored, b_committed), request_b)

    assert _all_there(app, _files_of(app, other.number)), "B's original, viewable copy, thumbnail and print copy"


def test_a_request_that_commits_after_a_clean_up_removed_its_shared_file_writes_it_again(app, make_case):
    other, _ = make_case()
    picture = _inspected(app)
    a_stored, b_attached, a_failed = threading.Event(), threading.Event(), threading.Event()

    def request_a():
        _store_then_fail(app, picture, a_stored, b_attached)()
        a_failed.set()

    def request_b():
        assert a_stored.wait(WAIT)  # the files are there: B only finds them
        with app.test_request_context(), db.transaction(app) as session:
            evidence.attach(session, case=session.get(Case, other.id), upload=picture, uploaded_by="claimant",
                            config=app.config)
            b_attached.set()
            assert a_failed.wait(WAIT)  # A's clean-up saw no committed row and removed them
            assert stored_files(app) == []
        # committed: B's row names the files, so B wrote them back

    _run(request_a, request_b)

    assert _all_there(app, _files_of(app, other.number))


def test_a_failed_request_alone_leaves_no_file(app):
    picture = _inspected(app)
    done = threading.Event()
    done.set()
    _store_then_fail(app, picture, threading.Event(), done)()
    assert stored_files(app) == []


def test_a_purge_that_saw_no_committed_row_cannot_lose_a_file_a_request_then_commits(app, make_case):
    other, _ = make_case()
    picture = _inspected(app)
    attached, purged = threading.Event(), threading.Event()

    def request_b():
        with app.test_request_context(), db.transaction(app) as session:
            evidence.attach(session, case=session.get(Case, other.id), upload=picture, uploaded_by="claimant",
                            config=app.config)
            attached.set()
            assert purged.wait(WAIT)
        # committed after the purge deleted the files it found unreferenced: B writes them back

    def purge():
        assert attached.wait(WAIT)
        with app.app_context(), Session(db.reader(db.engine(app))) as session:
            assert staging.purge(session, for_app(app), older_than=timedelta(0)) == 4
        assert stored_files(app) == []
        purged.set()

    _run(request_b, purge)

    assert _all_there(app, _files_of(app, other.number))
