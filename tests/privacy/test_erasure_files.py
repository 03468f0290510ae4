"""Files after an erasure: a crash between the commit and the deletion leaves files that only
the erased case used, and the daily purge of unreferenced files deletes them; a file another
case still uses is never deleted, by either."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from erasure_scan import evidence_files, stored

from support import cases, db, erasure
from support.audit import Actor
from support.intake import staging
from support.storage import storage


def _left(app_config) -> set[tuple[str, str]]:
    return {(path.parent.parent.name, path.name) for path in stored(Path(app_config["UPLOAD_DIR"]))}


def test_the_purge_deletes_what_a_crashed_erasure_left(app, app_config, file_case):
    erased, other = file_case(claimant_name="Crash Victim"), file_case(unique_file=False)
    own = evidence_files(app, erased.number) - evidence_files(app, other.number)
    shared = evidence_files(app, other.number)
    assert own and shared

    with app.app_context(), db.transaction(app) as session:
        erasure.erase_case(session, cases.get_by_number(session, erased.number), actor=Actor("cli", None, "tests"),
                           reason="DPO-5", open_too=True)
        session.info.pop("erasure.pending")  # the process dies right after the commit: no file is deleted
    assert own <= _left(app_config)

    with app.app_context(), db.transaction(app) as session:
        staging.purge(session, storage(), older_than=timedelta(0))
    left = _left(app_config)
    assert not own & left and shared <= left
