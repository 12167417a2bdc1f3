"""Alarms an operator can follow: a live alarm counts the reports that repeat it (same device,
same kind, until it is resolved) and keeps the time of the last one, so the panel shows one
row with its count, first and last time instead of a row per report. Resolving an alarm
needs its comment (处理意见), held here as well as in the core.

Revision ID: 0016
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE alarm ADD COLUMN repeats integer NOT NULL DEFAULT 1 CHECK (repeats >= 1),
                  ADD COLUMN last_at timestamptz;
ALTER TABLE alarm ADD CONSTRAINT alarm_resolve_comment
    CHECK (status <> 'resolved' OR resolved_by IS NULL OR length(btrim(coalesce(resolve_comment, ''))) > 0)
    NOT VALID;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("ALTER TABLE alarm DROP CONSTRAINT alarm_resolve_comment, DROP COLUMN repeats, DROP COLUMN last_at")
