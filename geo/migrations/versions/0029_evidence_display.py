"""A photo kept as evidence keeps its bytes as sent (hashed) and gets a derivative to display,
decoded and re-encoded by LawGrid (issue 33, item 2); a photo is added to a task only on site.

Revision ID: 0029
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE evidence ADD COLUMN display bytea;
"""

DOWNGRADE = """
ALTER TABLE evidence DROP COLUMN display;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
