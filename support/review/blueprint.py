"""The review blueprint object, shared by the modules that add routes and commands to it."""
from flask import Blueprint

#: cli_group=None: ``bp.cli`` commands are top-level (``flask --app app cases sweep``)
bp = Blueprint("review", __name__, cli_group=None)
