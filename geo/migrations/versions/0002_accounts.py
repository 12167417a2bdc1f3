"""Accounts, roles and unit scopes; login attempts for throttling; audit log grants.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE app_user (
    id                   serial PRIMARY KEY,
    username             text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    password_hash        text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('admin', 'operator', 'dispatcher',
                                                       'leader', 'supervisor', 'auditor')),
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Dispatchers and unit supervisors act only for these units.
CREATE TABLE user_unit (
    user_id  integer NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    unit_id  integer NOT NULL REFERENCES enforcement_unit(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, unit_id)
);

CREATE TABLE login_attempt (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    username  text NOT NULL,
    source    text NOT NULL,
    success   boolean NOT NULL
);
CREATE INDEX login_attempt_user ON login_attempt (username, at);
CREATE INDEX login_attempt_source ON login_attempt (source, at);

-- Belt and braces beside the trigger: nobody but the owner may change audit rows.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
"""

DOWNGRADE = "DROP TABLE IF EXISTS login_attempt, user_unit, app_user;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
