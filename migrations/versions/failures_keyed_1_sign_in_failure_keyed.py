"""Sign-in failures of names with no account: keyed hashes from now on (``sign_in_failures``).

The rows kept so far hold a plain SHA-256 of the door and the name, which hashing a list of
emails undoes; the keyed hashes that replace them would never match these, so they are
deleted (a name with no account starts counting again).

Revision ID: failures_keyed_1
Revises: jobs_alive_1
"""
from alembic import op

revision = "failures_keyed_1"
down_revision = "jobs_alive_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM sign_in_failure")


def downgrade() -> None:
    op.execute("DELETE FROM sign_in_failure")
