"""Helpers of the API tests: real image and PDF bytes, a valid filing, outbox and schema checks."""
from __future__ import annotations

import io
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from PIL import Image

from support import imei
from support.api import openapi
from support.models import CaseKind

#: evidence each kind needs (see support/evidence.py REQUIRED)
REQUIRED_FILES = {
    CaseKind.device_unbind: ["receipt", "box_photo"],
    CaseKind.lost_credentials: ["receipt", "box_photo", "imei_screen"],
    CaseKind.locked_account: ["id_document"],
}


def jpeg(size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def png(size=(40, 40), color=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def pdf() -> bytes:
    """A real one-page PDF (Pillow writes it), as a scanned receipt would be."""
    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (250, 250, 250)).save(buffer, "PDF")
    return buffer.getvalue()


def files_for(kinds: list[str]) -> dict:
    """The fields ``evidence`` (as ``(bytes, name)``) and ``evidence_kind`` for ``kinds``, in order."""
    makers = {"receipt": pdf, "id_document": jpeg}
    evidence = [(makers.get(kind, lambda: jpeg(color=(len(kind) * 9, 80, 40)))(), f"{kind}.bin") for kind in kinds]
    return {"evidence": evidence, "evidence_kind": list(kinds)}


def multipart(form: dict) -> dict:
    """``form`` for the test client, each ``(bytes, name)`` file opened afresh (the client closes them)."""
    return {key: [(io.BytesIO(item[0]), item[1]) if isinstance(item, tuple) else item for item in value]
            if isinstance(value, list) else value for key, value in form.items()}


def claim_form(case_kind: CaseKind = CaseKind.device_unbind, **overrides) -> dict:
    """A complete, valid filing of ``case_kind``; ``overrides`` replace or (as None) drop fields."""
    form = {
        "kind": case_kind.value, "claimant_name": "Maria Rossi", "contact_email": "maria@example.test",
        "language": "en", "account_hint": "+39 333 123 4567", "imei1": imei.generate(),
        "serial": "SN-1234", "model": "Redmi Note 12", "purchase_date": "2024-03-31", "shop": "Unieuro Milano",
        "consent": "true", **files_for(REQUIRED_FILES[case_kind]),
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def outbox(app) -> list[Path]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [path for path in root.rglob("*") if path.is_file() and path != root / ".lock"]


def conforms(response, path: str, method: str) -> None:
    """Assert the JSON body matches what the OpenAPI document promises for its status."""
    document = openapi.document()
    answer = document["paths"][path][method]["responses"][str(response.status_code)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    schema = answer["content"]["application/json"]["schema"]
    assert response.mimetype == "application/json", response.data[:200]
    Draft202012Validator({**schema, "components": document["components"]}).validate(json.loads(response.data))
