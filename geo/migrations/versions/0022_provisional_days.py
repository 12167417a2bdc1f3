"""Provisional working days past the State Council's schedule.

The schedule for next year is published in November; until it is loaded, days past the last
official one are computed from the statutory holidays (全国年节及纪念日放假办法) and weekends and
marked provisional, so that no deadline is ever refused for want of next year's calendar. The
days entered before as "weekends only" placeholders are provisional too.

Revision ID: 0022
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE work_calendar ADD COLUMN provisional boolean NOT NULL DEFAULT false;
UPDATE work_calendar SET provisional = true WHERE source LIKE '%weekends only%' OR source LIKE 'provisional%';
"""

DOWNGRADE = "ALTER TABLE work_calendar DROP COLUMN provisional;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
