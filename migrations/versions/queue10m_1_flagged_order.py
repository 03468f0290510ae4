"""The flagged queue in order: (SLA due, id) and (risk, id) of the open flagged cases.

``ix_case_flagged`` (status, sla_due_at, id) counts the open flagged cases and serves one
status, but over the four open statuses neither database can read it in SLA order: the
``flagged=1`` queue read every open flagged case and sorted them (1,300 rows at 10 million
cases, a few milliseconds growing with the desk). These partial indexes hold only those
cases, in the order of the queue's default sort and of its risk sort, so a page stops
after 51 rows; they match the queue's literal ``flagged`` and open-status conditions on
SQLite and PostgreSQL alike.

Revision ID: queue10m_1
Revises: shred_2
"""
from alembic import op
import sqlalchemy as sa

revision = "queue10m_1"
down_revision = "shred_2"
branch_labels = None
depends_on = None

FLAGGED_OPEN = "flagged AND status IN ('new', 'in_review', 'waiting_on_claimant', 'approved')"
INDEXES = [
    ("ix_case_flagged_open_sla", ["sla_due_at", "id"]),
    ("ix_case_flagged_open_risk", ["risk_score", "id"]),
]


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "case", columns, sqlite_where=sa.text(FLAGGED_OPEN), postgresql_where=sa.text(FLAGGED_OPEN))


def downgrade() -> None:
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name="case")
