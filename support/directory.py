"""The account directory: the accounts and devices being recovered.

Everything else talks to it through ``Directory``, a narrow interface, so a deployment
can point Recovery Desk at the vendor's real account service. ``SqlDirectory`` is the
built-in one. The directory changes state; callers record the audit events, except for
the sign-in lock, which the account service itself decides.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, or_, select

from . import audit, sign_in_failures
from .extensions import LANGUAGES
from .models import Account, AccountStatus, Device, utcnow
from .passwords import check_password, hash_password


class DirectoryError(ValueError):
    """A directory change that cannot be made (duplicate IMEI, unknown account ...)."""


class SignIn(str, Enum):
    ok = "ok"
    wrong_password = "wrong_password"
    locked = "locked"
    unknown = "unknown"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    account: Account | None = None
    #: the attempt that caused the lock (the account just became locked)
    just_locked: bool = False
    #: after a wrong password: how many more the name may take before it is locked
    attempts_left: int | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """Keep a leading + and the digits: "+7 (912) 345-67-89" -> "+79123456789"."""
    phone = phone.strip()
    digits = re.sub(r"\D", "", phone)
    return ("+" + digits) if phone.startswith("+") else digits


def unknown_login_hash(session: Session, login: str) -> str:
    """What ``SignInFailure`` keeps of a sign-in name: a keyed hash of it as the directory normalises it."""
    key = normalise_email(login) if "@" in login else (normalise_phone(login) or login.strip())
    return sign_in_failures.name_hash(session, "sign-in", key)


class Directory(Protocol):
    """What Recovery Desk needs from an account service."""

    def find_account(self, login: str) -> Account | None: ...
    def get_account(self, account_id: int) -> Account | None: ...
    def find_device(self, imei: str) -> Device | None: ...
    def devices_of(self, account_id: int) -> list[Device]: ...
    def sign_in(self, login: str, password: str, *, origin: audit.Origin | None = None) -> SignInResult: ...
    def lock(self, account: Account, reason: str) -> None: ...
    def unlock(self, account: Account) -> None: ...
    def bind(self, device: Device, account: Account) -> None: ...
    def unbind(self, device: Device, *, expected_account_id: int) -> bool: ...
    def set_lost_or_stolen(self, device: Device, flag: bool) -> None: ...
    def set_recovery_email(self, account: Account, email: str) -> None: ...
    def set_password(self, account: Account, password: str) -> None: ...
    def set_language(self, account: Account, language: str | None) -> None: ...


class SqlDirectory:
    """The built-in directory, in the app's own database and transaction."""

    def __init__(self, session: Session, *, lock_threshold: int = 10):
        self.session = session
        self.lock_threshold = lock_threshold

    # -- look-ups -------------------------------------------------------------------

    def find_account(self, login: str) -> Account | None:
        """By email, phone or numeric account ID."""
        login = login.strip()
        if not login:
            return None
        if "@" in login:
            return self.session.exec(select(Account).where(Account.email == normalise_email(login))).first()
        phone = normalise_phone(login)
        conditions = [Account.phone == phone] if phone else []
        if login.isdigit() and len(login) < 19:
            conditions.append(Account.id == int(login))
        if not conditions:
            return None
        return self.session.exec(select(Account).where(or_(*conditions))).first()

    def get_account(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def find_device(self, imei: str) -> Device | None:
        return self.session.exec(select(Device).where(or_(Device.imei1 == imei, Device.imei2 == imei))).first()

    def devices_of(self, account_id: int) -> list[Device]:
        return list(self.session.exec(select(Device).where(Device.account_id == account_id).order_by(Device.id)))

    # -- creating -------------------------------------------------------------------

    def add_account(self, *, password: str, email: str | None = None, phone: str | None = None,
                    account_id: int | None = None) -> Account:
        """A new account with the vendor's ID or a random 10-digit one; refuses a taken ID, email or phone."""
        email = normalise_email(email) if email else None
        phone = normalise_phone(phone) if phone else None
        if email and self.find_account(email):
            raise DirectoryError(f"email {email} already has an account")
        if phone and self.session.exec(select(Account).where(Account.phone == phone)).first():
            raise DirectoryError(f"phone {phone} already has an account")
        if account_id is not None and self.get_account(account_id):
            raise DirectoryError(f"account {account_id} already exists")
        account_id = account_id or self._free_account_id()
        account = Account(id=account_id, email=email, phone=phone, password_hash=hash_password(password))
        self.session.add(account)
        self.session.flush()
        return account

    def _free_account_id(self) -> int:
        while True:
            candidate = secrets.randbelow(9_000_000_000) + 1_000_000_000
            if self.session.get(Account, candidate) is None:
                return candidate

    def add_device(
        self,
        *,
        imei1: str,
        imei2: str | None = None,
        serial: str | None = None,
        model: str | None = None,
        account: Account | None = None,
    ) -> Device:
        """A device, bound to ``account`` if given; refuses an IMEI the directory already has."""
        for imei in filter(None, (imei1, imei2)):
            if self.find_device(imei):
                raise DirectoryError(f"IMEI {imei} is already registered")
        device = Device(imei1=imei1, imei2=imei2, serial=serial, model=model)
        if account is not None:
            device.account_id, device.bound_at = account.id, utcnow()
        self.session.add(device)
        self.session.flush()
        return device

    # -- the account service's own behaviour ------------------------------------------

    def sign_in(self, login: str, password: str, *, origin: audit.Origin | None = None) -> SignInResult:
        """Check a password like the real service: count failures, lock at the threshold."""
        account = self.find_account(login)
        if account is None:
            check_password(None, password)
            failed = self._count_unknown(login)
            if failed >= self.lock_threshold:  # answers as a locked account would
                return SignInResult(SignIn.locked, just_locked=failed == self.lock_threshold)
            return SignInResult(SignIn.unknown, attempts_left=self.lock_threshold - failed)
        if account.status == AccountStatus.locked:
            return SignInResult(SignIn.locked, account)
        if check_password(account.password_hash, password):
            account.failed_attempts = 0
            account.last_sign_in_at = utcnow()
            self.session.add(account)
            self.session.flush()
            return SignInResult(SignIn.ok, account)
        account.failed_attempts += 1
        if account.failed_attempts >= self.lock_threshold:
            self.lock(account, f"{account.failed_attempts} wrong passwords in a row")
            audit.record(
                self.session,
                actor=audit.Actor("account", str(account.id), None),
                action="account.locked",
                subject=("account", account.id),
                after={"status": "locked", "failed_attempts": account.failed_attempts},
                reason=account.lock_reason,
                origin=origin,
            )
            return SignInResult(SignIn.locked, account, just_locked=True)
        self.session.add(account)
        self.session.flush()
        return SignInResult(SignIn.wrong_password, account, attempts_left=self.lock_threshold - account.failed_attempts)

    def _count_unknown(self, login: str) -> int:
        """Count a wrong password for a name with no account, as ``sign_in`` counts an account's
        (``sign_in_failures``); returns the name's failures so far, this one included."""
        return sign_in_failures.count(self.session, unknown_login_hash(self.session, login)).failed_attempts

    # -- changes --------------------------------------------------------------------

    def lock(self, account: Account, reason: str) -> None:
        account.status, account.locked_at, account.lock_reason = AccountStatus.locked, utcnow(), reason
        self.session.add(account)
        self.session.flush()

    def unlock(self, account: Account) -> None:
        account.status, account.failed_attempts = AccountStatus.active, 0
        account.locked_at = account.lock_reason = None
        self.session.add(account)
        self.session.flush()

    def bind(self, device: Device, account: Account) -> None:
        if device.account_id is not None:
            raise DirectoryError(f"device {device.imei1} is already bound to an account")
        device.account_id, device.bound_at = account.id, utcnow()
        self.session.add(device)
        self.session.flush()

    def unbind(self, device: Device, *, expected_account_id: int) -> bool:
        """Detach the device only if it is still bound to ``expected_account_id`` (compare-and-set)."""
        result = self.session.exec(
            update(Device)
            .where(Device.id == device.id, Device.account_id == expected_account_id)
            .values(account_id=None, bound_at=None)
        )
        self.session.refresh(device)
        return result.rowcount == 1

    def set_lost_or_stolen(self, device: Device, flag: bool) -> None:
        device.lost_or_stolen = flag
        self.session.add(device)
        self.session.flush()

    def set_recovery_email(self, account: Account, email: str) -> None:
        email = normalise_email(email)
        holder = self.find_account(email)
        if holder is not None and holder.id != account.id:
            raise DirectoryError(f"email {email} already belongs to another account")
        account.email = email
        self.session.add(account)
        self.session.flush()

    def set_password(self, account: Account, password: str) -> None:
        account.password_hash = hash_password(password)
        self.session.add(account)
        self.session.flush()

    def set_language(self, account: Account, language: str | None) -> None:
        """The owner's language for notices (one of ``LANGUAGES``); None: derived from the phone."""
        if language is not None and language not in LANGUAGES:
            raise DirectoryError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        account.language = language
        self.session.add(account)
        self.session.flush()


def directory(session: Session, config: dict) -> SqlDirectory:
    """The directory this deployment uses (the built-in one for now)."""
    return SqlDirectory(session, lock_threshold=config.get("ACCOUNT_LOCK_THRESHOLD", 10))
