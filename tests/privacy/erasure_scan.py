"""The claimant whose data the erasure tests erase, and where the tests look for it afterwards:
every text value of the whole database, the outbox, the stored files."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import inspect, text
from sqlmodel import select

from support import cases, db
from support.models import Case, Evidence
from sent_mail import read_outbox

#: the claimant of the erased case: every value is distinctive, so a scan cannot miss it
CLAIMANT = {
    "claimant_name": "Zoltan Quibblesworth",
    "contact_email": "zoltan.q@erasure.test",
    "hint_email": "zq.old@erasure.test",
    "hint_phone": "+39 333 987 6543",
    "shop": "Quibblesworth Phones",
}
REPLY = "My granny Ilse Quibblesworth gave me this phone, call +39 333 987 6543"
ANSWER = "Bought at the Quibblesworth market stall"
AGENT_REPLY = "Dear Zoltan Quibblesworth, thank you: we are looking at it."
NOTE = "Called zoltan.q@erasure.test, sounded genuine"
#: what must be found nowhere once the case is erased (compared case-insensitively)
NEEDLES = ("Quibblesworth", "zoltan.q@erasure.test", "zq.old@erasure.test", "9876543", "987 6543",
           "Ilse", "granny", "market stall", "sounded genuine")


def database_text(engine) -> dict[str, list[str]]:
    """Every text value of every column of every table, as text, by table."""
    found = {}
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            found[table] = [json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
                            for row in rows for value in row if value is not None]
    return found


def naming(texts: dict[str, list[str]], needles=NEEDLES) -> dict[str, list[str]]:
    """Where any of ``needles`` occurs: table (or file) -> the values naming it."""
    hits = {}
    for where, values in texts.items():
        named = [value for value in values if any(needle.casefold() in value.casefold() for needle in needles)]
        if named:
            hits[where] = named
    return hits


def outbox_text(app_config) -> dict[str, list[str]]:
    return {f"mail to {sent.to}": [f"{sent.to}\n{sent.subject}\n{sent.body}"] for sent in read_outbox(app_config)}


def stored(upload_dir) -> set[Path]:
    root = Path(upload_dir)
    if not root.exists():
        return set()
    return {path for path in root.rglob("*") if path.is_file() and not path.name.startswith(".")}


def evidence_files(app, number: str) -> set[tuple[str, str]]:
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        rows = session.exec(select(Evidence).where(Evidence.case_id == case.id)).all()
        return {(area, sha) for row in rows for area, sha in (
            ("originals", row.sha256), ("viewable", row.viewable_sha256), ("thumbnails", row.thumbnail_sha256),
            ("print", row.print_sha256)) if sha}


def case_row(app, number: str) -> Case:
    with app.app_context(), db.transaction(app) as session:
        return cases.get_by_number(session, number)


def evidence_of(app, number: str) -> list[int]:
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        return list(session.exec(select(Evidence.id).where(Evidence.case_id == case.id)))
