"""Notices to an account's owner before a privileged action changes the account.

Principle 10 of DESIGN.md: every change to an account is announced, before it happens,
to the contacts the account had when the case was filed, in the owner's language, with a
"this was not me" link. So:

- ``record_contacts``: when a case is filed, the email and phone the *directory* has for
  every account the case points at (the account its IMEIs are bound to, the accounts its
  hints name) are kept in ``AccountContactRecord``. A replace-contact executed later
  cannot then silence the original owner: a notice for any action on that account within
  ``RECORDED_FOR`` (30 days) also goes to the recorded contacts.
- ``recipients``: the account's current email and phone plus those recorded contacts,
  de-duplicated. Empty means no one can be told, and ``actions`` asks for a supervisor's
  acknowledgement instead.
- ``language_of``: ``Account.language`` when set (directory import, ``flask directory
  set-language``), else the phone's country code (``CALLING_CODES``), else English.
- ``announce``: one email per address (mail queue) and one SMS per phone (outbox), in
  the same transaction as the approval, rendered from ``emails/actions_notice_<kind>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from sqlmodel import Session, select

from . import links, mail
from .directory import directory
from .models import Account, AccountContactRecord, Action, Case, Device, utcnow

#: how long the contacts recorded at filing keep being told
RECORDED_FOR = timedelta(days=30)
#: a phone's country calling code -> the language of notices when the account has none set
CALLING_CODES = (("+7", "ru"), ("+39", "it"))


def language_of(account: Account) -> str:
    """The owner's language: set on the account, else from the phone's calling code, else English."""
    if account.language:
        return account.language
    phone = account.phone or ""
    return next((language for code, language in CALLING_CODES if phone.startswith(code)), "en")


def accounts_of_case(session: Session, case: Case, config: dict) -> list[Account]:
    """Every account the case points at: its IMEIs' bound account and the accounts its hints name."""
    accounts = directory(session, config)
    found = {}
    for imei in filter(None, (case.imei1, case.imei2)):
        device = accounts.find_device(imei)
        if device is not None and device.account_id is not None:
            found[device.account_id] = accounts.get_account(device.account_id)
    for hint in filter(None, (case.hint_account_id, case.hint_email, case.hint_phone)):
        account = accounts.find_account(hint)
        if account is not None:
            found[account.id] = account
    return [account for account in found.values() if account is not None]


def record_contacts(session: Session, case: Case, config: dict) -> None:
    """Keep the directory's contacts of every account the new case points at (never the claimant's)."""
    for account in accounts_of_case(session, case, config):
        if account.email or account.phone:
            session.add(AccountContactRecord(account_id=account.id, email=account.email, phone=account.phone,
                                             case_id=case.id, recorded_at=case.created_at))
    session.flush()


@dataclass
class Recipients:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones)

    def add(self, email: str | None, phone: str | None) -> None:
        if email and email not in self.emails:
            self.emails.append(email)
        if phone and phone not in self.phones:
            self.phones.append(phone)


def recipients(session: Session, account: Account, now: datetime | None = None) -> Recipients:
    """The account's current contacts, then those recorded at filing in the last 30 days."""
    found = Recipients()
    found.add(account.email, account.phone)
    since = (now or utcnow()) - RECORDED_FOR
    for record in session.exec(select(AccountContactRecord)
                               .where(AccountContactRecord.account_id == account.id,
                                      AccountContactRecord.recorded_at >= since)
                               .order_by(AccountContactRecord.recorded_at, AccountContactRecord.id)):
        found.add(record.email, record.phone)
    return found


def announce(session: Session, action: Action, token: str) -> list[str]:
    """Queue the notice of ``action`` to every recipient in the owner's language; returns who was told."""
    account = session.get(Account, action.target_account_id)
    to = recipients(session, account)
    language = language_of(account)
    device = session.get(Device, action.target_device_id) if action.target_device_id else None
    context = {"account": account, "device": device, "kind": action.kind.value, "not_before": action.not_before,
               "objection_url": links.public("approvals.objection", token=token)}
    template = f"emails/actions_notice_{action.kind.value}"
    with force_locale(language):
        subject = render_template("emails/actions_notice_subject.txt", **context).strip()
        body = render_template(f"{template}.txt", **context)
        sms = render_template(f"{template}.sms.txt", **context).strip()
    for email in to.emails:
        mail.queue_email(session, to=email, subject=subject, body=body, language=language)
    for phone in to.phones:
        mail.queue_sms(session, to=phone, body=sms)
    return to.emails + to.phones
