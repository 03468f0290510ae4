"""What every storage backend promises, proved on the local folder and on a real S3 server.

The database plays no part here but the lock's (``test_storage_lock.py``), so these run on SQLite only.
"""
from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from support.storage import AREAS, CHUNK_BYTES, for_app


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    path = tmp_path / "test.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(app_config, storage_settings):
    return {**app_config, **storage_settings}


@pytest.fixture
def files(app):
    return for_app(app)


def test_a_file_is_named_by_its_bytes_and_read_back_whole_or_in_pieces(files):
    data = os.urandom(CHUNK_BYTES * 2 + 17)
    sha256 = files.store("originals", data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert files.store("originals", data) == sha256, "storing the same bytes again is a no-op"
    assert files.exists("originals", sha256) and not files.exists("viewable", sha256)
    assert files.open("originals", sha256) == data
    pieces = list(files.chunks("originals", sha256))
    assert len(pieces) == 3 and b"".join(pieces) == data
    assert [entry.name for entry in files.entries("originals")] == [sha256]
    assert all(not list(files.entries(area)) for area in AREAS if area != "originals")


def test_a_cache_is_kept_under_the_name_of_what_it_was_made_from(files):
    name = hashlib.sha256(b"page 1 of something").hexdigest()
    files.put("pages", name, b"first drawing")
    files.put("pages", name, b"second drawing")
    assert files.open("pages", name) == b"second drawing"
    assert [entry.name for entry in files.entries("pages")] == [name]


def test_a_missing_file_is_not_found_before_any_byte_is_served(files):
    missing = "ab" * 32
    assert not files.exists("originals", missing)
    with pytest.raises(FileNotFoundError):
        files.open("originals", missing)
    with pytest.raises(FileNotFoundError):
        files.chunks("originals", missing)  # at the call, so a route answers 404, not a broken stream
    files.delete("originals", missing)  # deleting what is not there is fine


def test_delete_removes_and_touch_marks_in_use_without_creating(files):
    sha256 = files.store("thumbnails", b"a thumbnail")
    [before] = files.entries("thumbnails")
    assert files.touch("thumbnails", sha256) is True
    [after] = files.entries("thumbnails")
    assert after.last_modified >= before.last_modified and after.last_modified.tzinfo is not None
    assert files.open("thumbnails", sha256) == b"a thumbnail", "touching keeps the bytes"
    files.delete("thumbnails", sha256)
    assert not files.exists("thumbnails", sha256)
    assert files.touch("thumbnails", sha256) is False
    assert not files.exists("thumbnails", sha256), "touch never creates an empty file"


@pytest.mark.parametrize("name", ["../../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "/x", "", "gg" * 32])
def test_a_name_that_is_no_sha256_reaches_nothing(files, name):
    for call in (files.open, files.exists, files.delete, files.touch, files.chunks):
        with pytest.raises(ValueError):
            call("originals", name)
    with pytest.raises(ValueError):
        files.put("pages", name, b"x")


def test_an_unknown_area_is_refused(files):
    with pytest.raises(ValueError):
        files.store("../uploads", b"x")
    with pytest.raises(ValueError):
        list(files.entries("secrets"))
