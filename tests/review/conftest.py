"""Review fixtures: real evidence files attached the way intake attaches them."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from support import checks, db, evidence
from support.cases import get_by_number
from support.models import EvidenceKind


def make_photo(color=(200, 180, 160), *, software: str | None = None, taken_at: datetime | None = None,
          size=(64, 48)) -> bytes:
    """A small real JPEG, with EXIF Software / DateTime when asked."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if software:
        exif[0x0131] = software
    if taken_at:
        exif[0x0132] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture
def photo():
    """``photo(color, software=None, taken_at=None) -> bytes``: a real JPEG."""
    return make_photo


@pytest.fixture
def attach(app):
    """``attach(number, kind, data=None, uploaded_by="claimant") -> Evidence``, then refresh the checks."""

    def add(number: str, kind: EvidenceKind, data: bytes | None = None, uploaded_by: str = "claimant"):
        with app.test_request_context(), db.transaction(app) as session:
            case = get_by_number(session, number)
            upload = evidence.Upload(filename=f"{kind.value}.jpg", data=data or make_photo(), kind=kind)
            item = evidence.attach(session, case=case, upload=upload, uploaded_by=uploaded_by, config=app.config)
            checks.refresh(session, case, app.config)
            return item

    return add


@pytest.fixture
def refreshed(app):
    """``refreshed(number) -> Case`` with its checks recomputed now."""

    def run(number: str):
        with app.app_context(), db.transaction(app) as session:
            case = get_by_number(session, number)
            checks.refresh(session, case, app.config)
            return case

    return run


@pytest.fixture
def load(app):
    """``load(number) -> Case`` as stored now."""

    def get(number: str):
        with app.app_context(), db.transaction(app) as session:
            return get_by_number(session, number)

    return get
