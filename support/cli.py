"""Flask commands for admins and cron: directory, agents, audit, demo data, picture hashes."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import agents, audit, checks, db, demo, feeds, imei, invitations, notices, personal, witness
from .directory import DirectoryError, directory
from .extensions import LANGUAGES
from .models import Language, Role

CLI_ACTOR = audit.Actor("cli", None, "command line")

directory_cli = AppGroup("directory", help="The built-in account directory.")
agents_cli = AppGroup("agents", help="Agents: password, role, access and sessions (each change ends their sessions).")
audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


def _read_password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _clean_imei(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        return imei.parse(value)
    except imei.InvalidImei as error:
        raise click.BadParameter(f"not a valid IMEI ({error.problem.value})", param_hint=field) from error


@directory_cli.command("add-account")
@click.option("--email")
@click.option("--phone")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_account(email, phone, password_stdin):
    """Create an account; prints its numeric ID."""
    password = _read_password(password_stdin)
    if not password:
        raise click.UsageError("the password is empty")
    with db.transaction() as session:
        try:
            account = directory(session, current_app.config).add_account(password=password, email=email, phone=phone)
        except DirectoryError as error:
            raise click.ClickException(str(error)) from error
        audit.record(session, actor=CLI_ACTOR, action="account.created", subject=("account", account.id),
                     after={"email": account.email, "phone": account.phone})
    click.echo(account.id)


@directory_cli.command("add-device")
@click.option("--imei1", required=True)
@click.option("--imei2")
@click.option("--serial")
@click.option("--model")
@click.option("--account", "account_login", help="Account ID, email or phone to bind the device to.")
def add_device(imei1, imei2, serial, model, account_login):
    """Register a device, optionally bound to an account."""
    imei1, imei2 = _clean_imei(imei1, "--imei1"), _clean_imei(imei2, "--imei2")
    with db.transaction() as session:
        accounts = directory(session, current_app.config)
        account = None
        if account_login:
            account = accounts.find_account(account_login)
            if account is None:
                raise click.ClickException(f"no account {account_login}")
        try:
            device = accounts.add_device(imei1=imei1, imei2=imei2, serial=serial, model=model, account=account)
        except DirectoryError as error:
            raise click.ClickException(str(error)) from error
        audit.record(session, actor=CLI_ACTOR, action="device.created", subject=("device", device.id),
                     after={"imei1": imei1, "imei2": imei2, "account_id": device.account_id})
        rechecked = checks.recheck_device(session, device, current_app.config)  # cases filed before it was known
    click.echo(f"device {device.id} ({imei1}){_rechecked(rechecked)}")


IMPORT_HELP = """CSV with a header. Account rows: type=account, id (optional: the vendor's account ID;
an account the directory has is updated), email, phone, password (a new account only),
language (optional: en, ru or it; the language of notices to the owner).
Device rows: type=device, imei1, imei2, serial, model, account (ID, email or phone of an
account already in the directory or earlier in the file), lost_or_stolen (yes/no); a
device whose IMEI the directory has is updated. An empty cell keeps what the directory
has; "-" clears it (unbinds the device, removes a contact). Every change is audited and
re-checks the cases it concerns."""


@directory_cli.command("import", help=IMPORT_HELP)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_csv(path: Path):
    """Import accounts and devices; each row's outcome and each bad row are reported by line number."""
    done, problems = demo.import_directory(path, actor=CLI_ACTOR)
    refused = dict(problems)
    for line, what in sorted([(line, what) for line, _outcome, what in done] + problems):
        click.echo(f"line {line}: {what}", err=line in refused)
    outcomes = [outcome for _line, outcome, _what in done]
    click.echo(f"imported {len(done)} rows ({outcomes.count('created')} created, {outcomes.count('updated')} updated, "
               f"{outcomes.count('unchanged')} unchanged), refused {len(problems)}")
    if problems:
        sys.exit(1)


def _device(session, value: str):
    """The device with this IMEI (either of its two), or exit 1 saying there is none."""
    device = directory(session, current_app.config).find_device(_clean_imei(value, "IMEI"))
    if device is None:
        raise click.ClickException(f"no device with IMEI {value} in the directory")
    return device


def _rechecked(numbers: list[str]) -> str:
    return f"; re-checked {', '.join(numbers)}" if numbers else "; no open case names it"


@directory_cli.command("flag-lost")
@click.argument("imei_value", metavar="IMEI")
@click.option("--clear", is_flag=True, help="Clear the flag (the device was found).")
@click.option("--reason", help="Why, for the audit trail (e.g. the vendor's report number).")
def flag_lost(imei_value, clear, reason):
    """Flag a device lost or stolen (or clear the flag); re-checks the open cases naming it,
    which voids their pending or scheduled actions."""
    with db.transaction() as session:
        device = _device(session, imei_value)
        rechecked = feeds.set_lost_or_stolen(session, device, not clear, actor=CLI_ACTOR, reason=reason,
                                             config=current_app.config)
    state = "not flagged" if clear else "flagged lost or stolen"
    if rechecked is None:
        click.echo(f"device {device.imei1} was already {state}: nothing changed")
        return
    click.echo(f"device {device.imei1}: {state}{_rechecked(rechecked)}")


@directory_cli.command("bind")
@click.argument("imei_value", metavar="IMEI")
@click.argument("account_login", metavar="ACCOUNT_ID")
@click.option("--reason", help="Why, for the audit trail.")
def bind(imei_value, account_login, reason):
    """Bind an unbound device to an account (ID, email or phone); re-checks the open cases naming it."""
    with db.transaction() as session:
        device = _device(session, imei_value)
        account = directory(session, current_app.config).find_account(account_login)
        if account is None:
            raise click.ClickException(f"no account {account_login}")
        try:
            rechecked = feeds.bind(session, device, account, actor=CLI_ACTOR, reason=reason,
                                   config=current_app.config)
        except DirectoryError as error:
            raise click.ClickException(f"{error}: unbind it first") from error
    click.echo(f"device {device.imei1}: bound to account {account.id}{_rechecked(rechecked)}")


@directory_cli.command("unbind")
@click.argument("imei_value", metavar="IMEI")
@click.option("--reason", help="Why, for the audit trail.")
def unbind(imei_value, reason):
    """Detach a device from its account; re-checks the open cases naming it."""
    with db.transaction() as session:
        device = _device(session, imei_value)
        account_id = device.account_id
        try:
            rechecked = feeds.unbind(session, device, actor=CLI_ACTOR, reason=reason, config=current_app.config)
        except DirectoryError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"device {device.imei1}: unbound from account {account_id}{_rechecked(rechecked)}")


@directory_cli.command("set-language")
@click.argument("account_id", type=int)
@click.argument("language", type=click.Choice([*LANGUAGES, "auto"]))
def set_language(account_id: int, language: str):
    """The language of notices to the account's owner; "auto" derives it from the phone's country code."""
    with db.transaction() as session:
        accounts = directory(session, current_app.config)
        account = accounts.get_account(account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        before = account.language
        accounts.set_language(account, None if language == "auto" else language)
        audit.record(session, actor=CLI_ACTOR, action="account.language_set", subject=("account", account.id),
                     before={"language": before}, after={"language": account.language})
        shown = notices.language_of(account)
    click.echo(f"account {account_id}: notices in {shown}")


@directory_cli.command("show")
@click.argument("login")
def show(login):
    """The account (by ID, email or phone) and its devices, as JSON."""
    with db.transaction() as session:
        accounts = directory(session, current_app.config)
        account = accounts.find_account(login)
        if account is None:
            raise click.ClickException(f"no account {login}")
        devices = accounts.devices_of(account.id)
        body = {
            **account.model_dump(exclude={"password_hash"}),
            "devices": [device.model_dump(exclude={"account_id"}) for device in devices],
        }
    click.echo(json.dumps(body, default=str, indent=2))


@click.command("create-agent")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default="agent", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--language", type=click.Choice([language.value for language in Language]), default="en",
              show_default=True, help="The language of the agent's pages and emails.")
def create_agent(email, name, role, password_stdin, language):
    """Create an agent. The password is prompted for (or read from stdin), never an argument."""
    password = _read_password(password_stdin)
    with db.transaction() as session:
        try:
            agent = agents.create_agent(session, email=email, name=name, role=Role(role), password=password,
                                        actor=CLI_ACTOR, language=Language(language))
        except agents.AgentError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"agent {agent.id} {agent.email} ({agent.role.value})")


def _change_agent(email: str, change) -> None:
    """Apply ``change(session, agent)`` to the agent with ``email``, or exit 1 naming the problem."""
    with db.transaction() as session:
        agent = agents.find(session, email)
        if agent is None:
            raise click.ClickException(f"no agent {email}")
        try:
            change(session, agent)
        except agents.AgentError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"agent {agent.id} {agent.email}: {agent.role.value}, {'active' if agent.active else 'deactivated'}; "
               "every session ended")


@agents_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email, password_stdin):
    """Give the agent a new password (prompted for, or read from stdin)."""
    password = _read_password(password_stdin)
    _change_agent(email, lambda session, agent: agents.set_password(session, agent, password, actor=CLI_ACTOR))


@agents_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([role.value for role in Role]))
def set_role(email, role):
    """Change the agent's role."""
    _change_agent(email, lambda session, agent: agents.set_role(session, agent, Role(role), actor=CLI_ACTOR))


@agents_cli.command("set-language")
@click.argument("email")
@click.argument("language", type=click.Choice([language.value for language in Language]))
def set_language(email, language):
    """Change the language of the agent's pages and emails."""
    with db.transaction() as session:
        agent = agents.find(session, email)
        if agent is None:
            raise click.ClickException(f"no agent {email}")
        agents.set_language(session, agent, Language(language), actor=CLI_ACTOR)
    click.echo(f"agent {agent.id} {agent.email}: language {language}")


@agents_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Take the agent's access away (the agent and their history stay)."""
    _change_agent(email, lambda session, agent: agents.set_active(session, agent, False, actor=CLI_ACTOR))


@agents_cli.command("reactivate")
@click.argument("email")
def reactivate(email):
    """Give a deactivated agent access again (they sign in anew)."""
    _change_agent(email, lambda session, agent: agents.set_active(session, agent, True, actor=CLI_ACTOR))


agents_cli.add_command(reactivate, "activate")  # the older name keeps working


@agents_cli.command("invite")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default="agent", show_default=True)
@click.option("--language", type=click.Choice([language.value for language in Language]), default="en",
              show_default=True, help="The language of the agent's pages and emails.")
def invite(email, name, role, language):
    """Create an agent without a password and email them the link that sets it (AGENT_LINK_HOURS)."""
    with db.transaction() as session:
        try:
            agent = agents.invite(session, email=email, name=name, role=Role(role), actor=CLI_ACTOR,
                                  language=Language(language))
        except agents.AgentError as error:
            raise click.ClickException(str(error)) from error
        invitations.send_link(session, agent, current_app.config, reset=False)
    click.echo(f"agent {agent.id} {agent.email} ({agent.role.value}) invited; the link was emailed")


@agents_cli.command("reset-password")
@click.argument("email")
def reset_password(email):
    """Make the agent's password stop working at once and email them (in their language) a link
    to choose a new one."""

    def change(session, agent):
        agents.reset_password(session, agent, actor=CLI_ACTOR)
        invitations.send_link(session, agent, current_app.config, reset=True)

    _change_agent(email, change)


@agents_cli.command("sign-out")
@click.argument("email")
def sign_out(email):
    """End every session of the agent (a lost laptop, a copied cookie)."""
    _change_agent(email, lambda session, agent: agents.sign_out_everywhere(session, agent, actor=CLI_ACTOR))


@agents_cli.command("reset-totp")
@click.argument("email")
def reset_totp(email):
    """Forget the agent's TOTP secret (a lost phone) and password; the emailed link sets a new
    password, then they set up new codes."""
    def change(session, agent):
        agents.reset_totp(session, agent, actor=CLI_ACTOR)
        invitations.send_link(session, agent, current_app.config, reset=True)

    _change_agent(email, change)


@audit_cli.command("verify")
@click.option("--witness", "witness_file", type=click.File("r", encoding="utf-8"),
              help="A witness file (AUDIT_WITNESS_FILE): also catch a chain cut short or rolled back past it.")
def verify(witness_file):
    """Recompute the chain and check the signed checkpoints; exit 1 at the first bad event, and
    when a kept personal value no longer matches its fingerprint (the chain holds only those).

    The outcome is kept: the audit page shows how far the chain was last verified."""
    key = audit.load_signing_key(current_app.config, current_app.instance_path).public_key()
    witnessed = witness.read(witness_file) if witness_file else []
    with db.transaction() as session:
        verdict = audit.verify(session, key, witnessed)
        altered = sorted({row.subject for row in personal.altered(session)})
    with db.transaction() as session:  # the audit page shows the latest verification
        audit.record_verification(session, verdict, by="cli")
    if not verdict.ok:
        click.echo(f"audit trail BROKEN at sequence {verdict.bad_seq}: {verdict.problem}", err=True)
        sys.exit(1)
    click.echo(f"audit trail intact: {verdict.count} events, head {verdict.head_hash}")
    if altered:
        click.echo(f"personal values ALTERED (they do not match their fingerprints) of: {', '.join(altered)}",
                   err=True)
        sys.exit(1)


@audit_cli.command("checkpoint")
def checkpoint():
    """Sign the current head of the chain with the Ed25519 key and store the checkpoint."""
    key = audit.load_signing_key(current_app.config, current_app.instance_path)
    with db.transaction() as session:
        try:
            signed = audit.checkpoint(session, key)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"checkpoint at sequence {signed.seq}: {signed.head_hash}")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the directory already has accounts.")
def seed_demo(if_empty):
    """Demo accounts, devices and one agent of each role (their sign-ins are printed)."""
    report = demo.seed(if_empty=if_empty)
    click.echo(report)


@click.command("rehash-pictures")
@with_appcontext
def rehash_pictures():
    """Compute every stored picture's perceptual hash again (needed once after migration trust2_d_1)."""
    from . import evidence
    from .evidence import near_duplicates
    from .storage import storage

    changed = near_duplicates.rehash(current_app, storage(), phash=evidence.phash, actor=CLI_ACTOR)
    click.echo(f"{changed} picture hashes changed")


def init_app(app: Flask) -> None:
    from .evidence.analysis.commands import evidence_cli
    from .privacy.commands import erasure_cli, retention_cli
    from .storage.commands import storage_cli

    for command in (directory_cli, agents_cli, audit_cli, create_agent, seed_demo, rehash_pictures, evidence_cli,
                    retention_cli, erasure_cli, storage_cli):
        app.cli.add_command(command)
