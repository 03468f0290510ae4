from flask import Blueprint

bp = Blueprint("auditlog", __name__)
