"""Review queue at scale: keyset indexes and per-status counts kept by triggers.

Every queue sort is a keyset over (sort column, id); the open-case indexes are partial
(only the statuses the default queue shows), so they stay small when closed cases pile
up. ``case_status_count`` is maintained by triggers in the writer's own transaction, so
counts are exact for every writer (the app, bulk loads) and cost one row read per view.

Revision ID: review_1
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "review_1"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'in_review', 'waiting_on_claimant', 'approved')"
INDEXES = [
    ("ix_case_open_sla", ["sla_due_at", "id"], True),
    ("ix_case_open_risk", ["risk_score", "id"], True),
    ("ix_case_open_age", ["created_at", "id"], True),
    ("ix_case_open_assignee_sla", ["assignee_id", "sla_due_at", "id"], True),
    ("ix_case_status_sla", ["status", "sla_due_at", "id"], False),
    ("ix_case_status_risk", ["status", "risk_score", "id"], False),
    ("ix_case_status_age", ["status", "created_at", "id"], False),
    ("ix_case_assignee_status_sla", ["assignee_id", "status", "sla_due_at", "id"], False),
]

SQLITE_TRIGGERS = [
    """CREATE TRIGGER case_status_count_insert AFTER INSERT ON "case" BEGIN
         INSERT INTO case_status_count (status, count) VALUES (NEW.status, 1)
           ON CONFLICT (status) DO UPDATE SET count = count + 1;
       END""",
    """CREATE TRIGGER case_status_count_update AFTER UPDATE OF status ON "case"
       WHEN OLD.status IS NOT NEW.status BEGIN
         UPDATE case_status_count SET count = count - 1 WHERE status = OLD.status;
         INSERT INTO case_status_count (status, count) VALUES (NEW.status, 1)
           ON CONFLICT (status) DO UPDATE SET count = count + 1;
       END""",
    """CREATE TRIGGER case_status_count_delete AFTER DELETE ON "case" BEGIN
         UPDATE case_status_count SET count = count - 1 WHERE status = OLD.status;
       END""",
]

POSTGRES_FUNCTION = """
CREATE FUNCTION case_status_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE case_status_count SET count = count - 1 WHERE status = OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO case_status_count (status, count) VALUES (NEW.status, 1)
      ON CONFLICT (status) DO UPDATE SET count = case_status_count.count + 1;
  END IF;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    for name, columns, open_only in INDEXES:
        where = sa.text(OPEN) if open_only else None
        op.create_index(name, "case", columns, sqlite_where=where, postgresql_where=where)
    op.create_table(
        "case_status_count",
        sa.Column("status", sa.String(length=32), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute('INSERT INTO case_status_count (status, count) SELECT status, COUNT(*) FROM "case" GROUP BY status')
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute('CREATE TRIGGER case_status_count_insert_delete AFTER INSERT OR DELETE ON "case" '
                   "FOR EACH ROW EXECUTE FUNCTION case_status_count_keep()")
        op.execute('CREATE TRIGGER case_status_count_update AFTER UPDATE OF status ON "case" '
                   "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
                   "EXECUTE FUNCTION case_status_count_keep()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER IF EXISTS case_status_count_insert_delete ON "case"')
        op.execute('DROP TRIGGER IF EXISTS case_status_count_update ON "case"')
        op.execute("DROP FUNCTION IF EXISTS case_status_count_keep()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_status_count_{name}")
    op.drop_table("case_status_count")
    for name, _columns, _open_only in INDEXES:
        op.drop_index(name, table_name="case")
