"""Index for the eligibility query: the officers whose area covers a township.

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX officer_area_township ON officer_area (township_code, officer_id)")


def downgrade() -> None:
    op.execute("DROP INDEX officer_area_township")
