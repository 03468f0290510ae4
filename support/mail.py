"""Outgoing email and SMS: queued with the change that caused them, delivered after it commits.

``queue_email`` and ``queue_sms`` add an ``OutgoingMessage`` row to the caller's session,
so the message exists only if that transaction commits (a transactional outbox): nobody
is told of a change that was rolled back. When any session commits, the messages it
queued are delivered at once; one that fails stays queued with its error and is tried
again later with a growing pause (the worker sends what is due every minute, as
``flask --app app mail deliver`` does; ``--retry-now`` sends everything). A delivered message is deleted: its body may hold a private
code or a reset link, which the database keeps no longer than needed.

With ``SMTP_URL`` set (smtp://user:pass@host:port, smtp+starttls://..., smtps://... for
TLS) email goes to that server; otherwise every email is written to ``MAIL_OUTBOX_DIR``
as an ``.eml`` file. SMS notices are always written to the outbox as ``.sms.txt`` files
(no SMS gateway yet). Files are written atomically so a reader never sees half a message.
"""
from __future__ import annotations

import json
import os
import smtplib
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from sqlalchemy import event, func, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, delete, select

from . import db, jobs
from .models import Channel, OutgoingMessage, utcnow

#: how long one deliverer owns a message while sending it (SMTP gives up after 30 s)
SENDING_LEASE = timedelta(minutes=10)
#: the pause after the n-th failure doubles from one minute up to this
MAX_BACKOFF = timedelta(hours=1)
_QUEUED = "mail.queued"


# -- queueing (inside the caller's transaction) ---------------------------------------------


def queue_email(session: Session, *, to: str, subject: str, body: str, language: str = "en") -> OutgoingMessage:
    """Queue one email in ``session``'s transaction; it is sent once that transaction commits."""
    return _queue(session, OutgoingMessage(channel=Channel.email, recipient=to, subject=subject, body=body,
                                           language=language,
                                           message_id=make_msgid(domain="recovery-desk.invalid")))


def queue_sms(session: Session, *, to: str, body: str) -> OutgoingMessage:
    """Queue one SMS in ``session``'s transaction; it is sent once that transaction commits."""
    return _queue(session, OutgoingMessage(channel=Channel.sms, recipient=to, body=body))


def _queue(session: Session, message: OutgoingMessage) -> OutgoingMessage:
    session.add(message)
    session.flush()
    session.info.setdefault(_QUEUED, []).append(message.id)
    return message


@event.listens_for(OrmSession, "after_commit")
def _deliver_after_commit(session: OrmSession) -> None:
    """The transaction that queued these messages committed: send them now.

    A savepoint's commit fires this too, while the outer transaction may still roll back
    (and on SQLite holds the write lock delivery needs): only the outermost commit counts.
    """
    if session.in_nested_transaction():
        return
    queued = session.info.pop(_QUEUED, None)
    if queued and has_app_context():
        deliver(only=queued)  # without an app context they wait for `mail deliver`


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_rolled_back(session: OrmSession, previous_transaction) -> None:
    """Rolled back: those rows are gone (a savepoint's rollback keeps the outer ones)."""
    if previous_transaction.parent is None:
        session.info.pop(_QUEUED, None)


# -- delivery (after commit, each message in short transactions of its own) -----------------


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int


def deliver(*, only: list[int] | None = None, retry_now: bool = False) -> Delivery:
    """Send the queued messages that are due (all of them with ``retry_now``), oldest first.

    Never raises: a message that cannot be sent keeps its row, its error and a later
    ``next_attempt_at``. ``only`` limits the run to those ids (the ones a commit queued).
    """
    sent = failed = 0
    try:
        now = utcnow()
        with db.transaction() as session:
            query = select(OutgoingMessage.id).where(
                or_(OutgoingMessage.sending_until.is_(None), OutgoingMessage.sending_until < now))
            if only is not None:
                query = query.where(OutgoingMessage.id.in_(only))
            if not retry_now:
                query = query.where(OutgoingMessage.next_attempt_at <= now)
            ids = list(session.exec(query.order_by(OutgoingMessage.id)))
        for message_id in ids:
            outcome = _deliver_one(message_id)
            sent, failed = sent + (outcome is True), failed + (outcome is False)
    except Exception:  # the cause is committed; the rows wait for the next run
        current_app.logger.exception("outgoing mail: delivery stopped")
    return Delivery(sent, failed)


def _deliver_one(message_id: int) -> bool | None:
    """True when sent, False when it failed (kept for later), None when someone else has it."""
    message = _claim(message_id)
    if message is None:
        return None
    try:
        written = _send(message)
    except Exception as error:
        _failed(message, error)
        current_app.logger.warning("outgoing mail %s to %s failed (attempt %s): %s", message.id,
                                   message.recipient, message.attempts, error)
        return False
    with db.transaction() as session:
        withdrawn = session.exec(delete(OutgoingMessage).where(OutgoingMessage.id == message.id)).rowcount == 0
    if withdrawn and written is not None:
        # an erasure deleted the row while it was being written, after scrubbing the outbox
        written.unlink(missing_ok=True)
    return True


def _claim(message_id: int) -> OutgoingMessage | None:
    """Take the message for one attempt (compare-and-set on ``sending_until``), or None."""
    now = utcnow()
    with db.transaction() as session:
        claimed = session.connection().execute(
            update(OutgoingMessage).where(OutgoingMessage.id == message_id,
                                          or_(OutgoingMessage.sending_until.is_(None),
                                              OutgoingMessage.sending_until < now))
            .values(sending_until=now + SENDING_LEASE, attempts=OutgoingMessage.attempts + 1))
        if claimed.rowcount != 1:
            return None
        return session.get(OutgoingMessage, message_id)


def _failed(message: OutgoingMessage, error: Exception) -> None:
    pause = min(timedelta(minutes=2 ** min(message.attempts - 1, 10)), MAX_BACKOFF)
    with db.transaction() as session:
        session.connection().execute(
            update(OutgoingMessage).where(OutgoingMessage.id == message.id)
            .values(sending_until=None, next_attempt_at=utcnow() + pause,
                    last_error=f"{type(error).__name__}: {error}"[:2000]))


def _send(message: OutgoingMessage) -> Path | None:
    """Send or write the message; returns the outbox file it was written to, if any."""
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    if message.channel == Channel.sms:
        return _write_atomically(folder, _outbox_name(".sms.txt"), f"To: {message.recipient}\n\n{message.body}\n".encode())
    email = _email(message)
    if current_app.config.get("SMTP_URL"):
        _send_smtp(current_app.config["SMTP_URL"], email)
        return None
    return _write_atomically(folder, _outbox_name(".eml"), bytes(email))


def _email(message: OutgoingMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id or make_msgid(domain="recovery-desk.invalid")
    email.set_content(message.body)  # set_content drops Content-* headers: add ours after it
    email["Content-Language"] = message.language
    return email


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


@jobs.periodic(jobs.crontab(minute="*"))
def deliver_due() -> None:
    """Every minute, on the worker: send what is due, failures after their pause (``mail deliver``)."""
    deliver()


# -- the command ---------------------------------------------------------------------------

mail_cli = AppGroup("mail", help="The outgoing mail queue.")


@mail_cli.command("deliver")
@click.option("--retry-now", is_flag=True, help="Also try the messages still waiting out a pause after a failure.")
def deliver_command(retry_now: bool) -> None:
    """Send the queued email and SMS that are due (cron; safe to run at any time)."""
    delivery = deliver(retry_now=retry_now)
    with db.transaction() as session:
        waiting = session.exec(select(func.count()).select_from(OutgoingMessage)).one()
    click.echo(json.dumps({"sent": delivery.sent, "failed": delivery.failed, "waiting": waiting}))


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
