"""The app role owns nothing, yet ingest must create next month's position partition: the
partition function runs with its owner's rights (SECURITY DEFINER, a fixed search path) and
only those granted EXECUTE may call it.

Revision ID: 0010
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FUNCTION = "lawgrid_ensure_position_partitions(timestamptz, integer)"


def upgrade() -> None:
    op.execute(f"ALTER FUNCTION {FUNCTION} SECURITY DEFINER SET search_path = public, pg_temp")
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {FUNCTION} SECURITY INVOKER RESET search_path")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO PUBLIC")
