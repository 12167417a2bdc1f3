"""A task lifecycle that means what it says: the statuses recorded for the crew by someone
else (a dispatcher on the phone with them) are listed on the task, and a task is completed
only after it was on site. A creation request may carry its key (Idempotency-Key), so a
double click or a retried request makes one task.

Revision ID: 0017
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE inspection ADD COLUMN on_behalf text[] NOT NULL DEFAULT '{}';
ALTER TABLE inspection ADD CONSTRAINT inspection_completed_on_site
    CHECK (status <> 'completed' OR on_site_at IS NOT NULL) NOT VALID;
ALTER TABLE inspection ADD COLUMN request_key text CHECK (length(request_key) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX inspection_request_key ON inspection (created_by, request_key) WHERE request_key IS NOT NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        "ALTER TABLE inspection DROP CONSTRAINT inspection_completed_on_site, "
        "DROP COLUMN on_behalf, DROP COLUMN request_key"
    )
