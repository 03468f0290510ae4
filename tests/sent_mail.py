"""Reading what the desk delivered to the outbox folder (no SMTP server in tests)."""
from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path


@dataclass(frozen=True)
class Delivered:
    kind: str
    to: str
    subject: str | None
    body: str


def read_outbox(app_config: dict) -> list[Delivered]:
    """Emails and SMS written to ``MAIL_OUTBOX_DIR``, oldest first."""
    folder = Path(app_config["MAIL_OUTBOX_DIR"])
    found = []
    for path in sorted(folder.glob("*")) if folder.exists() else []:
        if path.name.endswith(".eml"):
            message = message_from_bytes(path.read_bytes(), policy=email_policy)
            found.append(Delivered("email", message["To"], message["Subject"],
                                   message.get_body(("plain",)).get_content()))
        elif path.name.endswith(".sms.txt"):
            head, _blank, body = path.read_text().partition("\n\n")
            found.append(Delivered("sms", head.removeprefix("To: "), None, body))
    return found
