"""Directory changes from the vendor's feeds: a device flagged lost or stolen (or cleared),
bound to an account, unbound, or updated by an import.

Each change is an audit event in the caller's transaction, followed in the same
transaction by the re-checks of the cases the change concerns (``checks.recheck_device``),
so a flag that appears after an approval voids the pending or scheduled action at once
(execution would refuse it anyway). The directory itself only changes state.
"""
from __future__ import annotations

from sqlmodel import Session

from . import audit, checks
from .directory import DirectoryError, directory
from .models import Account, Device


def set_lost_or_stolen(session: Session, device: Device, flag: bool, *, actor: audit.Actor, reason: str | None,
                       config: dict) -> list[str] | None:
    """Flag the device lost or stolen (or clear the flag); None when it already was so,
    otherwise the numbers of the cases re-checked."""
    if device.lost_or_stolen == flag:
        return None
    directory(session, config).set_lost_or_stolen(device, flag)
    audit.record(session, actor=actor, action="device.flagged_lost" if flag else "device.flag_cleared",
                 subject=("device", device.id), before={"lost_or_stolen": not flag},
                 after={"imei1": device.imei1, "lost_or_stolen": flag}, reason=reason)
    return checks.recheck_device(session, device, config)


def bind(session: Session, device: Device, account: Account, *, actor: audit.Actor, reason: str | None,
         config: dict) -> list[str]:
    """Bind an unbound device; refuses (``DirectoryError``) one bound to an account already."""
    directory(session, config).bind(device, account)
    audit.record(session, actor=actor, action="device.bound", subject=("device", device.id),
                 before={"account_id": None}, after={"imei1": device.imei1, "account_id": account.id}, reason=reason)
    return checks.recheck_device(session, device, config)


def unbind(session: Session, device: Device, *, actor: audit.Actor, reason: str | None, config: dict) -> list[str]:
    """Detach the device from its account; refuses (``DirectoryError``) a device bound to none."""
    account_id = device.account_id
    if account_id is None:
        raise DirectoryError(f"device {device.imei1} is not bound to any account")
    if not directory(session, config).unbind(device, expected_account_id=account_id):
        raise DirectoryError(f"device {device.imei1} changed at the same moment: try again")
    audit.record(session, actor=actor, action="device.unbound", subject=("device", device.id),
                 before={"account_id": account_id}, after={"imei1": device.imei1, "account_id": None}, reason=reason)
    return checks.recheck_device(session, device, config)


def update_device(session: Session, device: Device, wanted: dict, *, actor: audit.Actor, reason: str | None,
                  config: dict) -> dict:
    """Make the device what a feed row says (``wanted``: any of serial, model, account_id,
    lost_or_stolen); one ``device.updated`` event naming each change, then the re-checks.
    Returns {field: [before, after]} for what changed (empty: nothing did)."""
    changed = {field: [getattr(device, field), value] for field, value in wanted.items()
               if getattr(device, field) != value}
    if not changed:
        return {}
    accounts = directory(session, config)
    if "account_id" in changed:
        if device.account_id is not None and not accounts.unbind(device, expected_account_id=device.account_id):
            raise DirectoryError(f"device {device.imei1} changed at the same moment: try again")
        if wanted["account_id"] is not None:
            accounts.bind(device, accounts.get_account(wanted["account_id"]))
    if "lost_or_stolen" in changed:
        accounts.set_lost_or_stolen(device, wanted["lost_or_stolen"])
    for field in changed.keys() & {"serial", "model"}:
        setattr(device, field, wanted[field])
    session.add(device)
    session.flush()
    audit.record(session, actor=actor, action="device.updated", subject=("device", device.id),
                 before={field: values[0] for field, values in changed.items()},
                 after={"imei1": device.imei1, **{field: values[1] for field, values in changed.items()}},
                 reason=reason)
    checks.recheck_device(session, device, config)
    return changed


def update_account(session: Session, account: Account, wanted: dict, *, actor: audit.Actor, reason: str | None,
                   config: dict) -> dict:
    """Give the account the email and phone a feed row says (``wanted``); one ``account.updated``
    event, then the re-checks of the cases about its devices. Returns what changed."""
    changed = {field: [getattr(account, field), value] for field, value in wanted.items()
               if getattr(account, field) != value}
    if not changed:
        return {}
    accounts = directory(session, config)
    for field, (_before, value) in changed.items():
        holder = accounts.find_account(value) if value else None
        if holder is not None and holder.id != account.id:
            raise DirectoryError(f"{field} {value} already belongs to another account")
        setattr(account, field, value)
    session.add(account)
    session.flush()
    audit.record(session, actor=actor, action="account.updated", subject=("account", account.id),
                 before={field: values[0] for field, values in changed.items()},
                 after={field: values[1] for field, values in changed.items()}, reason=reason)
    checks.recheck_account(session, account, config)
    return changed
