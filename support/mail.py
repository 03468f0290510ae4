"""Outgoing email and SMS notices.

With ``SMTP_URL`` set (smtp://user:pass@host:port, smtps://... for TLS) email goes to that
server; otherwise every email is written to ``MAIL_OUTBOX_DIR`` as an ``.eml`` file. SMS
notices are always written to the outbox as ``.sms.txt`` files (no SMS gateway yet).
Files are written atomically so a reader never sees half a message.
"""
from __future__ import annotations

import os
import smtplib
import tempfile
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from .models import utcnow


def _write_atomically(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        final = folder / name
        os.replace(temporary, final)
        return final
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _outbox_name(suffix: str) -> str:
    return f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}{suffix}"


def send_email(*, to: str, subject: str, body: str, language: str = "en", html: str | None = None) -> str:
    """Send (or write to the outbox) one email; returns its Message-ID."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="recovery-desk.invalid")
    message.set_content(body)  # set_content drops Content-* headers: add ours after it
    message["Content-Language"] = language
    if html:
        message.add_alternative(html, subtype="html")
    if config.get("SMTP_URL"):
        _send_smtp(config["SMTP_URL"], message)
    else:
        _write_atomically(Path(config["MAIL_OUTBOX_DIR"]), _outbox_name(".eml"), bytes(message))
    return message["Message-ID"]


def send_sms(*, to: str, body: str) -> Path:
    """Write an SMS notice to the outbox (there is no SMS gateway yet)."""
    text = f"To: {to}\n\n{body}\n"
    return _write_atomically(Path(current_app.config["MAIL_OUTBOX_DIR"]), _outbox_name(".sms.txt"), text.encode())


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with client_class(parts.hostname, port, timeout=30) as client:
        if not secure and parts.scheme == "smtp+starttls":
            client.starttls()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
