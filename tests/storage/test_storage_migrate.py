"""``flask storage migrate --to URL`` between the local folder and a real S3 server, both ways,
including a target that hands back other bytes than it was given."""
from __future__ import annotations

import hashlib
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from support import create_app, db
from support.storage import for_app, make_storage, migrate
from support.storage.locks import flocked

PICTURE, RECEIPT, THUMBNAIL = b"\xff\xd8 a box photo", b"%PDF-1.7 a receipt", b"\x89PNG a thumbnail"
PAGE_NAME = hashlib.sha256(b"receipt/page/1").hexdigest()


def _fill(files) -> dict[tuple[str, str], bytes]:
    stored = {("originals", files.store("originals", PICTURE)): PICTURE,
              ("originals", files.store("originals", RECEIPT)): RECEIPT,
              ("thumbnails", files.store("thumbnails", THUMBNAIL)): THUMBNAIL}
    files.put("pages", PAGE_NAME, b"a drawn page")
    stored[("pages", PAGE_NAME)] = b"a drawn page"
    return stored


def _report(result) -> dict:
    return json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])


@pytest.fixture
def make_app(app_config):
    """``make_app(**settings)``: the test's app with more settings (its engine closed afterwards)."""
    made = []

    def make(**settings):
        made.append(create_app({**app_config, **settings}))
        return made[-1]

    yield make
    for app in made:
        db.engine(app).dispose()


@pytest.fixture
def bucket_settings(s3_server) -> dict:
    """The S3 settings of a new bucket; STORAGE_URL left to the test."""
    return s3_server.config()


def test_local_files_move_to_a_bucket_verified_and_a_second_run_copies_nothing(make_app, bucket_settings):
    target_url = bucket_settings.pop("STORAGE_URL")
    app = make_app(**bucket_settings)
    stored = _fill(for_app(app))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["storage", "migrate", "--to", target_url])

    assert result.exit_code == 0, result.output
    report = _report(result)
    assert report["total"] == {"copied": 4, "present": 0, "vanished": 0, "failed": 0} and report["may_switch"]
    assert f"set STORAGE_URL={target_url}" in result.output
    bucket = for_app(app, target_url)
    assert {key: bucket.open(*key) for key in stored} == stored
    again = runner.invoke(args=["storage", "migrate", "--to", target_url])
    assert again.exit_code == 0 and _report(again)["total"] == {"copied": 0, "present": 4, "vanished": 0, "failed": 0}


def test_bucket_files_move_to_a_folder(make_app, bucket_settings, tmp_path):
    app = make_app(**bucket_settings)
    stored = _fill(for_app(app))
    folder = f"file://{tmp_path / 'new-uploads'}"

    result = app.test_cli_runner().invoke(args=["storage", "migrate", "--to", folder])

    assert result.exit_code == 0, result.output
    assert _report(result)["total"]["copied"] == 4
    target = make_storage(folder, config=app.config)
    assert {key: target.open(*key) for key in stored} == stored


def test_a_wrong_copy_left_in_the_target_is_replaced(app, s3_server, bucket_settings, tmp_path):
    """A run interrupted or a copy damaged earlier: the target's bytes are checked, not trusted."""
    stored = _fill(for_app(app))
    bucket, target_url = urlsplit(bucket_settings["STORAGE_URL"]).netloc, bucket_settings["STORAGE_URL"]
    sha256 = hashlib.sha256(PICTURE).hexdigest()
    s3_server.client().put_object(Bucket=bucket, Key=f"originals/{sha256[:2]}/{sha256}", Body=b"not the picture")
    target = make_storage(target_url, config=bucket_settings, lock=lambda: flocked(tmp_path / "target.lock"))

    outcome = migrate.migrate(for_app(app), target, committed=dict)

    assert outcome.may_switch and outcome.as_dict()["total"]["copied"] == 4
    assert target.open("originals", sha256) == PICTURE == stored[("originals", sha256)]


def test_a_target_that_returns_other_bytes_is_refused_and_nothing_switches(make_app, bucket_settings):
    """A hostile (or broken) S3 endpoint: every object it serves has one byte changed."""
    target_url = bucket_settings.pop("STORAGE_URL")
    proxy = _CorruptingProxy(bucket_settings["S3_ENDPOINT_URL"])
    try:
        app = make_app(**{**bucket_settings, "S3_ENDPOINT_URL": proxy.endpoint})
        _fill(for_app(app))
        result = app.test_cli_runner().invoke(args=["storage", "migrate", "--to", target_url])
    finally:
        proxy.stop()

    assert result.exit_code == 1
    report = _report(result)
    assert report["total"]["failed"] == 4 and report["total"]["copied"] == 0 and not report["may_switch"]
    assert "Do not switch" in result.output and "STORAGE_URL=" not in result.output


def test_a_file_filed_during_the_run_is_copied_in_the_final_pass(app, bucket_settings, tmp_path):
    source = for_app(app)
    _fill(source)
    target = make_storage(bucket_settings["STORAGE_URL"], config=bucket_settings,
                          lock=lambda: flocked(tmp_path / "target.lock"))
    late = b"\xff\xd8 uploaded while the copy ran"
    lost = "ef" * 32

    def committed():
        """What committed evidence names, read under the lock: one upload arrived after the listing."""
        return {"originals": {source.store("originals", late), hashlib.sha256(PICTURE).hexdigest(), lost}}

    outcome = migrate.migrate(source, target, committed=committed)

    assert target.open("originals", hashlib.sha256(late).hexdigest()) == late
    assert outcome.as_dict()["total"]["copied"] == 5 and outcome.missing == [("originals", lost)]
    assert outcome.may_switch, "a file lost before the run is reported, not blamed on the switch"


def test_the_target_must_differ_and_be_a_storage_url(runner, app):
    assert runner.invoke(args=["storage", "migrate", "--to", f"file://{app.config['UPLOAD_DIR']}"]).exit_code == 2
    assert runner.invoke(args=["storage", "migrate", "--to", "ftp://example.test/x"]).exit_code == 2


class _CorruptingProxy:
    """An HTTP proxy in front of the S3 server that flips the first byte of every object it returns."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                connection.request(self.command, self.path, body, headers=dict(self.headers.items()))
                answer = connection.getresponse()
                data = answer.read()
                connection.close()
                if self.command == "GET" and answer.status == 200 and "?" not in self.path and data:
                    data = bytes([data[0] ^ 0x01]) + data[1:]
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", answer.getheader("Content-Length", "0") if self.command == "HEAD"
                                 else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
