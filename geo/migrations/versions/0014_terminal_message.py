"""The downlink outbox: text messages for JT/T 808 terminals (a dispatched task on the crew's
screens). The web process writes them; the ingest process holding the terminal's connection
sends them, at once if the terminal is connected, or when it next authenticates.

Revision ID: 0014
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE terminal_message (
    id          bigserial PRIMARY KEY,
    device_id   integer NOT NULL REFERENCES device(id) ON DELETE CASCADE,
    task_id     bigint REFERENCES inspection(id) ON DELETE SET NULL,
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX terminal_message_unsent ON terminal_message (device_id, id) WHERE sent_at IS NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE terminal_message")
