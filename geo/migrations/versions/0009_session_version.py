"""Sessions and tokens that can end: every account carries a session version, written into
its session cookie and bearer tokens at login; logout, a password change and disabling the
account raise it, so every session and token issued before stops working at once.

Revision ID: 0009
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE app_user ADD COLUMN session_version integer NOT NULL DEFAULT 1")


def downgrade() -> None:
    op.execute("ALTER TABLE app_user DROP COLUMN session_version")
