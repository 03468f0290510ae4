"""Hostile text stays text, and the renderer loads nothing but its own prepared images and data: URIs."""
from __future__ import annotations

import base64
import http.server
import io
import threading
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from weasyprint import HTML
from weasyprint.urls import path2url

from support import audit, cases, db
from support.models import MessageVisibility
from support.reports import content, pdf
from support.reports.fetcher import RefusedFetch, ReportFetcher
from support.storage import for_app

from report_reading import needs_poppler, pdf_text


@pytest.fixture
def trap_server():
    """A real HTTP server on loopback that counts every request it gets (there must be none)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { background: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    thread.join(timeout=5)


def hostile_texts(base: str) -> dict[str, str]:
    return {
        "name": f'<img src="{base}/name.png">Mallory',
        "shop": f'<style>@import url("{base}/shop.css");</style>Shop',
        "note": (f'<link rel="stylesheet" href="file:///etc/passwd"> @import url(file:///etc/passwd); '
                 f'<iframe src="{base}/frame"></iframe></td></tr></table><h1>Injected heading</h1>'),
        "check": '<object data="file:///etc/hostname"></object> see http://evil.invalid/x',
        "agent": f'<link rel="stylesheet" href="{base}/agent.css">Eve',
    }


@needs_poppler
def test_hostile_case_renders_as_plain_text_and_fetches_nothing(app, make_case, make_agent, trap_server):
    base, hits = trap_server
    texts = hostile_texts(base)
    agent = make_agent(name=texts["agent"])
    case, _token = make_case(claimant_name=texts["name"], shop=texts["shop"])
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, case.number)
        cases.add_message(session, case, body=texts["note"], actor=audit.Actor("claimant", case.number, "x"))
        cases.add_message(session, case, body=texts["note"], actor=audit.Actor("agent", str(agent.id), agent.name),
                          visibility=MessageVisibility.internal)
        case.checks = [{"code": "hostile", "result": "warn", "detail": texts["check"], "links": [f"{base}/link"]}]
        session.add(case)
        data = content.gather(session, case, language="en", generated_by=audit.SYSTEM, config=app.config)
        fetcher = ReportFetcher([Path(current_app.template_folder), Path(current_app.static_folder)])
        report = pdf.render_pdf(data, config=app.config, storage=for_app(app), fetcher=fetcher)

    assert hits == [] and fetcher.refused == []
    assert fetcher.requested == [], "report.css is parsed once per process; the HTML links nothing"
    text = pdf_text(report)
    unwrapped = "".join(text.split())  # narrow cells wrap long URLs: compare without the line breaks
    for hostile in texts.values():
        assert "".join(hostile.split()) in unwrapped, "shown literally, as typed"
    assert "Injected heading Case" not in text


def test_the_fetcher_refuses_the_network_and_foreign_files(tmp_path, trap_server):
    base, hits = trap_server
    own = tmp_path / "own"
    own.mkdir()
    (own / "report.css").write_text("p { color: rgb(1, 2, 3) }")
    (own / "escape.css").symlink_to("/etc/passwd")
    dot = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(dot, "PNG")
    climb_to_root = "../" * len(own.parts)  # up to / from wherever tmp_path is (deeper under xdist)
    html = f"""<link rel="stylesheet" href="report.css"><link rel="stylesheet" href="escape.css">
      <style>@import url("{base}/imported.css");</style><link rel="stylesheet" href="{base}/linked.css">
      <img src="{base}/image.png"><img src="file:///etc/hostname"><img src="{climb_to_root}etc/passwd">
      <img src="data:image/png;base64,{base64.b64encode(dot.getvalue()).decode()}"><p>text</p>"""
    fetcher = ReportFetcher([own])

    HTML(string=html, base_url=path2url(own) , url_fetcher=fetcher).write_pdf()

    assert hits == [], "nothing reached the network"
    refused = sorted(fetcher.refused)
    assert refused == sorted([f"{base}/imported.css", f"{base}/linked.css", f"{base}/image.png",
                              "file:///etc/hostname", "file:///etc/passwd", path2url(own / "escape.css")])
    with pytest.raises(RefusedFetch):
        fetcher.fetch("ftp://example.invalid/file")
    with pytest.raises(RefusedFetch):
        fetcher.fetch("preview:0")  # only the images prepared for the report being rendered
    assert fetcher.fetch(path2url(own / "report.css")).read() == b"p { color: rgb(1, 2, 3) }"
