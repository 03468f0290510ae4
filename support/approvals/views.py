from flask import Blueprint

bp = Blueprint("approvals", __name__, cli_group=None)
