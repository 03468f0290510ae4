"""Demo data and the directory CSV import.

``seed`` is deterministic (a fixed random seed) and runs once: with ``if_empty`` it leaves
a database that already has accounts alone, so ``make run`` keeps data across runs.
"""
from __future__ import annotations

import csv
import random
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlmodel import Session, func, select

from . import agents, audit, checks, db, demo_cases, feeds, imei
from .directory import DirectoryError, directory, normalise_email, normalise_phone
from .models import Account, AccountStatus, Agent, Device, Role, utcnow
from .passwords import hash_password

DEMO_ACTOR = audit.Actor("system", None, "demo seed")
DEMO_ACCOUNT_PASSWORD = "demo-account-password"
#: one agent of each role; the passwords are for the demo only
DEMO_AGENTS = [
    ("agent@demo.test", "Alex Agent", Role.agent, "demo-agent-password"),
    ("supervisor@demo.test", "Sam Supervisor", Role.supervisor, "demo-supervisor-password"),
    ("auditor@demo.test", "Ada Auditor", Role.auditor, "demo-auditor-password"),
    ("admin@demo.test", "Max Admin", Role.admin, "demo-admin-password"),
    ("dpo@demo.test", "Dana Privacy", Role.dpo, "demo-dpo-password"),
]
MODELS = ["Redmi Note 13", "Redmi 12C", "Xiaomi 14", "POCO X6 Pro", "Redmi Note 12 Pro", "Xiaomi 13T", "Mi Band 8"]
FIRST = ["anna", "marco", "ivan", "giulia", "olga", "luca", "dmitry", "sofia", "pavel", "chiara"]


def seed(*, if_empty: bool = False) -> str:
    """Seed accounts, devices and agents; returns the text to print (the demo sign-ins)."""
    with db.transaction() as session:
        if if_empty and session.exec(select(func.count()).select_from(Account)).one():
            return "Demo data already present; nothing added.\n" + sign_ins()
        _seed_directory(session, random.Random(2026))
        for email, name, role, password in DEMO_AGENTS:
            agents.create_agent(session, email=email, name=name, role=role, password=password, actor=DEMO_ACTOR)
        enrol_demo_totp(session)
        demo_cases.seed(session, config=current_app.config, rng=random.Random(2026))
    return "Demo data created.\n" + sign_ins()


def sign_ins() -> str:
    lines = ["Demo sign-ins (development only):", "  agents at /agent/sign-in:"]
    lines += [f"    {role.value:<10} {email:<24} {password}" for email, _name, role, password in DEMO_AGENTS]
    lines.append(f"  accounts at /account/sign-in: any demo account with password {DEMO_ACCOUNT_PASSWORD}")
    lines.append("    e.g. anna.1@demo.test (active), ivan.1@demo.test (locked after ten wrong passwords)")
    lines += demo_totp_lines()
    return "\n".join(lines)


def _seed_directory(session: Session, rng: random.Random) -> None:
    password_hash = hash_password(DEMO_ACCOUNT_PASSWORD)  # one hash: argon2 is slow by design
    now = utcnow()
    accounts = []
    for number in range(50):
        name = f"{FIRST[number % len(FIRST)]}.{number // len(FIRST) + 1}"
        has_email, has_phone = number % 7 != 5, number % 3 != 0
        account = Account(
            id=1_000_000_000 + rng.randrange(8_999_999_999),
            email=f"{name}@demo.test" if has_email else None,
            phone=f"+3933{rng.randrange(10**8):08d}" if has_phone else None,
            password_hash=password_hash,
            created_at=now - timedelta(days=rng.randrange(30, 1500)),
        )
        if number % 5 == 2:  # locked after ten wrong passwords
            account.status, account.failed_attempts = AccountStatus.locked, 10
            account.locked_at = now - timedelta(hours=rng.randrange(1, 400))
            account.lock_reason = "10 wrong passwords in a row"
        if number % 11 == 10:  # neither email nor phone left: only support can help
            account.email = account.phone = None
        session.add(account)
        accounts.append(account)
    session.flush()
    for account in accounts:
        if account.status == AccountStatus.locked:
            audit.record(session, actor=audit.Actor("account", str(account.id), None), action="account.locked",
                         subject=("account", account.id), after={"status": "locked", "failed_attempts": 10},
                         reason=account.lock_reason)
    for number in range(80):
        owner = accounts[number % len(accounts)] if number % 9 != 8 else None
        device = Device(
            imei1=imei.generate("86" + str(number % 10)),
            imei2=imei.generate("86" + str(number % 10)) if number % 3 == 0 else None,
            serial=f"{rng.randrange(10**5):05d}/{rng.choice('ABCDEFGH')}{rng.randrange(10**7):07d}",
            model=MODELS[number % len(MODELS)],
            account_id=owner.id if owner else None,
            bound_at=(now - timedelta(days=rng.randrange(1, 900))) if owner else None,
            lost_or_stolen=number % 16 == 7,
        )
        session.add(device)
    session.flush()
    audit.record(session, actor=DEMO_ACTOR, action="demo.seeded", after={"accounts": 50, "devices": 80})


#: what a cell says: an empty cell keeps what the directory has, CLEAR removes it
CLEAR = "-"
YES = {"yes", "true", "1"}


def import_directory(path: Path, *, actor: audit.Actor) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """Import a directory CSV, creating new rows and updating the ones the directory has
    (accounts by ``id``, devices by IMEI, never a duplicate); each good row commits on its
    own with its audit event and re-checks. Returns (line, outcome, what changed) for each
    good row, the outcome being created, updated or unchanged, and (line, problem) for each
    bad one."""
    done, problems = [], []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            line = reader.line_num
            try:
                with db.transaction() as session:
                    done.append((line, *_import_row(session, row, actor)))
            except (DirectoryError, imei.InvalidImei, ValueError) as error:
                problems.append((line, _explain(error)))
    return done, problems


def _explain(error: Exception) -> str:
    if isinstance(error, imei.InvalidImei):
        return f"invalid IMEI {error.value!r} ({error.problem.value})"
    return str(error)


def _import_row(session: Session, row: dict, actor: audit.Actor) -> tuple[str, str]:
    """One row, created or updated; returns the outcome and what happened in a few words."""
    values = {key.strip().lower(): (value or "").strip() for key, value in row.items() if key}
    kind = values.get("type", "")
    if kind == "account":
        return _import_account(session, values, actor)
    if kind == "device":
        return _import_device(session, values, actor)
    raise ValueError(f"type must be 'account' or 'device', not {kind!r}")


def _changes(subject: str, changed: dict) -> tuple[str, str]:
    if not changed:
        return "unchanged", f"{subject} unchanged"
    return "updated", f"{subject} updated: " + ", ".join(f"{field} {before} -> {after}"
                                                         for field, (before, after) in sorted(changed.items()))


def _cell(values: dict, column: str, parse=lambda value: value):
    """{column: value} for a cell that says something: nothing when empty, None for CLEAR."""
    value = values.get(column, "")
    if not value:
        return {}
    return {column: None if value == CLEAR else parse(value)}


def _account_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise ValueError(f"account id must be digits, not {value!r}")
    return int(value)


def _import_account(session: Session, values: dict, actor: audit.Actor) -> tuple[str, str]:
    accounts = directory(session, current_app.config)
    account_id = _account_id(values["id"]) if values.get("id") else None
    wanted = {**_cell(values, "email", normalise_email), **_cell(values, "phone", normalise_phone)}
    account = accounts.get_account(account_id) if account_id else None
    if account is not None:
        changed = feeds.update_account(session, account, wanted, actor=actor, reason="directory import",
                                       config=current_app.config)
        return _changes(f"account {account.id}", changed)
    if not values.get("password"):
        raise ValueError("a new account needs a password")
    account = accounts.add_account(password=values["password"], email=wanted.get("email"), phone=wanted.get("phone"),
                                   account_id=account_id)
    accounts.set_language(account, values.get("language") or None)
    audit.record(session, actor=actor, action="account.created", subject=("account", account.id),
                 after={"email": account.email, "phone": account.phone, "language": account.language},
                 reason="directory import")
    return "created", f"account {account.id} created"


def _owner(session: Session, login: str) -> int:
    account = directory(session, current_app.config).find_account(login)
    if account is None:
        raise ValueError(f"no account {login}")
    return account.id


def _device_with(session: Session, imei1: str, imei2: str | None) -> Device | None:
    """The device the row's IMEIs name; refuses IMEIs of two devices or a device with another second IMEI."""
    accounts = directory(session, current_app.config)
    found = {device.id: device for device in map(accounts.find_device, filter(None, (imei1, imei2))) if device}
    if len(found) > 1:
        raise DirectoryError(f"IMEIs {imei1} and {imei2} belong to two different devices")
    device = next(iter(found.values()), None)
    if device is not None and imei2 and {imei1, imei2} != {device.imei1, device.imei2}:
        raise DirectoryError(f"device {device.imei1} has other IMEIs than {imei1}, {imei2}")
    return device


def _import_device(session: Session, values: dict, actor: audit.Actor) -> tuple[str, str]:
    imei1 = imei.parse(values.get("imei1"))
    imei2 = imei.parse(values["imei2"]) if values.get("imei2") else None
    owner = _cell(values, "account", lambda login: _owner(session, login))
    wanted = {**_cell(values, "serial"), **_cell(values, "model"),
              **({"account_id": owner["account"]} if owner else {}),
              **({"lost_or_stolen": values["lost_or_stolen"].lower() in YES} if values.get("lost_or_stolen") else {})}
    device = _device_with(session, imei1, imei2)
    if device is not None:
        changed = feeds.update_device(session, device, wanted, actor=actor, reason="directory import",
                                      config=current_app.config)
        return _changes(f"device {device.imei1}", changed)
    accounts = directory(session, current_app.config)
    owner = accounts.get_account(wanted["account_id"]) if wanted.get("account_id") else None
    device = accounts.add_device(imei1=imei1, imei2=imei2, serial=wanted.get("serial"), model=wanted.get("model"),
                                 account=owner)
    if wanted.get("lost_or_stolen"):
        accounts.set_lost_or_stolen(device, True)
    audit.record(session, actor=actor, action="device.created", subject=("device", device.id),
                 after={"imei1": device.imei1, "account_id": device.account_id}, reason="directory import")
    checks.recheck_device(session, device, current_app.config)  # cases filed before the directory knew it
    return "created", f"device {device.imei1} created"


# -- step-up codes for the demo (appended by the actions feature) ---------------------------

#: fixed TOTP secrets of the demo agents, so the approve/execute story can be shown at once
DEMO_TOTP_SECRETS = {email: f"{role.value.upper()}DEMOTOTP".ljust(32, "A") for email, _n, role, _p in DEMO_AGENTS}


def enrol_demo_totp(session: Session) -> None:
    """Give the demo agents their fixed TOTP secrets (never do this for real agents)."""
    for email, secret in DEMO_TOTP_SECRETS.items():
        agent = session.exec(select(Agent).where(Agent.email == email)).first()
        if agent is not None:
            agent.totp_secret = secret
            session.add(agent)
            audit.record(session, actor=DEMO_ACTOR, action="agent.totp_enrolled", subject=("agent", agent.id),
                         reason="fixed demo secret")
    session.flush()


def demo_totp_lines() -> list[str]:
    lines = ["  two-step codes (approve/execute): add the secret to an authenticator app, or print the code with",
             "    .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\""]
    return lines + [f"    {email:<24} {secret}" for email, secret in DEMO_TOTP_SECRETS.items()]
