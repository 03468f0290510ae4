"""The files of the evidence page: the original's download name, a PDF's drawn pages, the
readable "found in the file" lines, letterboxed thumbnails and ``flask evidence thumbnails``."""
from __future__ import annotations

import io
import subprocess
from urllib.parse import unquote

import pytest
from PIL import Image
from sqlmodel import select

from support import db, evidence, personal
from support.cases import get_by_number
from support.evidence.pages import cache_name
from support.models import AuditEvent, CaseStatus, Evidence, EvidenceKind, Role
from support.storage import storage


def tall_receipt(size=(300, 1200)) -> bytes:
    """A portrait receipt photo: red ink top to bottom on white, a black bar at the very top and bottom."""
    image = Image.new("RGB", size, "white")
    image.paste((200, 0, 0), (20, 0, size[0] - 20, size[1]))
    image.paste((0, 0, 0), (0, 0, size[0], 30))
    image.paste((0, 0, 0), (0, size[1] - 30, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def two_page_pdf() -> bytes:
    """A real two-page portrait PDF with a text layer, printed by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string="<style>@page { size: 300px 400px; }</style><p>first page</p>"
                       "<p style='break-before: page'>second page</p>").write_pdf()


@pytest.fixture
def upload_named(app):
    """``upload_named(number, kind, data, name) -> Evidence``, attached as intake attaches it
    (a PDF's page then drawn as the worker draws it)."""
    from support.evidence.pictures import draw_pdf_pictures

    def add(number: str, kind: EvidenceKind, data: bytes, name: str):
        with app.test_request_context(), db.transaction(app) as session:
            case = get_by_number(session, number)
            item = evidence.attach(session, case=case, upload=evidence.Upload(name, data, kind), uploaded_by="claimant",
                                   config=app.config)
        if item.media_type == "application/pdf":
            with app.app_context():
                draw_pdf_pictures(item.id)
            with app.app_context(), db.transaction(app) as session:
                item = session.get(type(item), item.id)
        return item

    return add


def test_the_download_name_is_made_by_the_desk_and_keeps_the_sniffed_extension(app, client, login, make_case,
                                                                                upload_named, photo):
    case, _ = make_case()
    hostile = upload_named(case.number, EvidenceKind.receipt, photo((9, 9, 9)),
                           '..\\..\\etc/pass"wd\r\nX-Evil: 1; name=evil.exe')
    russian = upload_named(case.number, EvidenceKind.receipt, photo((8, 8, 8)), "Чек №5 (магазин).JPEG")
    named_pdf = upload_named(case.number, EvidenceKind.receipt, two_page_pdf(), "receipt.png")
    login(Role.agent)

    def disposition(item):
        response = client.get(f"/cases/{case.number}/evidence/{item.id}/original")
        assert response.status_code == 200 and response.mimetype == "application/octet-stream"
        return response.headers["Content-Disposition"]

    header = disposition(hostile)
    assert "\r" not in header and "\n" not in header and "/" not in header and "\\" not in header
    assert header == f'attachment; filename="{case.number}-evidence-{hostile.id}-pass-wdX-Evil-1-name-evil.jpg"'
    header = disposition(russian)
    assert header.startswith(f'attachment; filename="{case.number}-evidence-{russian.id}-5.jpg"; filename*=UTF-8\'\'')
    assert unquote(header.split("UTF-8''", 1)[1]) == f"{case.number}-evidence-{russian.id}-Чек-5-магазин.jpg"
    header = disposition(named_pdf)  # a PDF named .png is sent as what its bytes are
    assert header == f'attachment; filename="{case.number}-evidence-{named_pdf.id}-receipt.pdf"'
    with app.app_context(), db.transaction(app) as session:
        names = [event.after["filename"] for event in personal.reveal(session, list(session.exec(
            select(AuditEvent).where(AuditEvent.action == "evidence.original_downloaded").order_by(AuditEvent.seq))))]
    assert names[-1] == f"{case.number}-evidence-{named_pdf.id}-receipt.pdf" and len(names) == 3
    page = client.get(f"/cases/{case.number}/evidence/{russian.id}").text
    assert "Чек №5 (магазин).JPEG" in page  # the name as uploaded is shown (escaped), never used as a path
    assert "X-Evil: 1; name=evil.exe" in client.get(f"/cases/{case.number}/evidence/{hostile.id}").text


def test_a_pdf_is_shown_as_its_drawn_pages_cached_and_described_in_words(app, client, login, make_case, upload_named):
    case, _ = make_case()
    other, _ = make_case()
    item = upload_named(case.number, EvidenceKind.receipt, two_page_pdf(), "receipt.pdf")
    login(Role.auditor)
    page = client.get(f"/cases/{case.number}/evidence/{item.id}").text
    assert "{&#39;pages&#39;" not in page and "{'pages'" not in page  # never a raw dict
    assert "2 pages, a text layer of" in page and "Page 1 of 2" in page and "Open the PDF" in page
    assert "2 страницы" in client.get(f"/cases/{case.number}/evidence/{item.id}?lang=ru").text
    client.get("/?lang=en")
    with app.app_context():
        assert not storage().exists("pages", cache_name(item, 2))  # drawn when first looked at
    second = client.get(f"/cases/{case.number}/evidence/{item.id}/pages/2")
    assert second.status_code == 200 and second.mimetype == "image/png"
    assert "sandbox" in second.headers["Content-Security-Policy"]
    drawn = Image.open(io.BytesIO(second.data))
    assert drawn.size[1] > drawn.size[0]  # the portrait page, whole
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-", "-"], input=two_page_pdf(), capture_output=True,
                          check=True).stdout.decode()
    assert "second page" in text
    with app.app_context():
        assert storage().exists("pages", cache_name(item, 2))  # the second look reads the cache
        cached = storage().open("pages", cache_name(item, 2))
    assert client.get(f"/cases/{case.number}/evidence/{item.id}/pages/2").data == cached == second.data
    for bad in (0, 3, 999):
        assert client.get(f"/cases/{case.number}/evidence/{item.id}/pages/{bad}").status_code == 404
    assert client.get(f"/cases/{other.number}/evidence/{item.id}/pages/1").status_code == 404  # another case's
    client.post("/agent/sign-out")
    assert client.get(f"/cases/{case.number}/evidence/{item.id}/pages/1").status_code == 302  # signed out


def test_thumbnails_show_the_whole_picture_letterboxed(app, client, login, make_case, upload_named):
    case, _ = make_case()
    receipt = upload_named(case.number, EvidenceKind.receipt, tall_receipt(), "receipt.jpg")
    pdf = upload_named(case.number, EvidenceKind.receipt, two_page_pdf(), "receipt.pdf")
    login(Role.agent)
    for item in (receipt, pdf):
        thumbnail = Image.open(io.BytesIO(client.get(f"/cases/{case.number}/evidence/{item.id}/thumbnail").data))
        assert thumbnail.size == (320, 320)
        assert _grey(thumbnail.getpixel((4, 160)))  # a band beside the portrait picture, not a crop of it
    picture = Image.open(io.BytesIO(client.get(f"/cases/{case.number}/evidence/{receipt.id}/thumbnail").data)).convert("RGB")
    assert _dark(picture.getpixel((160, 2))) and _dark(picture.getpixel((160, 317)))  # its top and bottom bars: whole height
    assert picture.getpixel((160, 160))[0] > 150  # the red ink in the middle


def _grey(pixel) -> bool:
    return all(abs(channel - 238) < 12 for channel in pixel[:3])


def _dark(pixel) -> bool:
    return max(pixel[:3]) < 60


def test_flask_evidence_thumbnails_redraws_older_thumbnails_once(app, runner, make_case, upload_named):
    case, _ = make_case(status=CaseStatus.in_review)
    item = upload_named(case.number, EvidenceKind.receipt, tall_receipt(), "receipt.jpg")
    new_thumbnail = item.thumbnail_sha256
    old = io.BytesIO()
    Image.open(io.BytesIO(tall_receipt())).crop((0, 450, 300, 750)).save(old, "JPEG")  # an old, centre-cropped one
    with app.app_context(), db.transaction(app) as session:
        stored = session.get(Evidence, item.id)
        stored.thumbnail_sha256 = storage().store("thumbnails", old.getvalue())
    result = runner.invoke(args=["evidence", "thumbnails"])
    assert result.exit_code == 0 and "1 of 1 thumbnails drawn again" in result.output
    with app.app_context(), db.transaction(app) as session:
        redrawn = session.get(Evidence, item.id).thumbnail_sha256
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.thumbnail_redrawn")).all()
        assert Image.open(io.BytesIO(storage().open("thumbnails", redrawn))).size == (320, 320)
    assert len(events) == 1 and events[0].after == {"thumbnail_sha256": redrawn}
    assert redrawn != stored.thumbnail_sha256 and new_thumbnail
    again = runner.invoke(args=["evidence", "thumbnails", "--case", case.number])
    assert again.exit_code == 0 and "0 of 1 thumbnails drawn again" in again.output
