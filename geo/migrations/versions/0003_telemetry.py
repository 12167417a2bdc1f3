"""Telemetry: latest state per device, alarms.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE device_state (
    device_id    integer PRIMARY KEY REFERENCES device(id) ON DELETE CASCADE,
    fix_time     timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    speed_kmh    real,
    course       real,
    recording    boolean,
    battery      real,
    alarms       text[] NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'online' CHECK (state IN ('online', 'stale', 'offline'))
);
CREATE INDEX device_state_geom_gist ON device_state USING gist (geom);

CREATE TABLE alarm (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id        integer NOT NULL REFERENCES device(id) ON DELETE CASCADE,
    officer_id       integer REFERENCES officer(id) ON DELETE SET NULL,
    kind             text NOT NULL CHECK (kind IN ('sos', 'overspeed', 'low_battery', 'power_loss',
                                                   'recording_stopped', 'storage_full', 'offline')),
    at               timestamptz NOT NULL,
    geom             geometry(Point, 4326),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    acked_by         text,
    acked_at         timestamptz,
    ack_comment      text,
    resolved_by      text,
    resolved_at      timestamptz,
    resolve_comment  text
);
-- One live alarm per device and kind: a flag that stays on does not raise it again.
CREATE UNIQUE INDEX alarm_one_live ON alarm (device_id, kind) WHERE status <> 'resolved';
CREATE INDEX alarm_status ON alarm (status, at DESC);
"""

DOWNGRADE = "DROP TABLE IF EXISTS alarm, device_state;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
