"""Backups that restore: a consistent online copy of the database, the audit witness file
and a manifest of the stored files (``create``), checked (``archive.verify``) and put back
into an empty desk, whose audit trail is then verified (``restore``). See docs/operations.md."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import backup_cli, restore_command

    app.cli.add_command(backup_cli)
    app.cli.add_command(restore_command)
