"""The outbox for outside platforms (payment, publication, the registry feed): what LawGrid owes
another system is written in the same transaction as the act that owes it, then sent by a relay
with retries; nothing is lost while the other side is down, and a key makes each message once.

Revision ID: 0021
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic            text NOT NULL CHECK (topic ~ '^[a-z][a-z0-9_.]*$'),
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    payload          jsonb NOT NULL,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claimed_until    timestamptz,
    last_error       text,
    delivered_at     timestamptz,
    answer           jsonb,
    gave_up_at       timestamptz,
    UNIQUE (topic, key),
    CHECK (delivered_at IS NULL OR gave_up_at IS NULL)
);
CREATE INDEX outbox_due ON outbox (topic, next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
"""

DOWNGRADE = "DROP TABLE outbox;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
