"""Vendor profiles, external power and device keys: each device says how its vendor-defined JT/T 808 items
are read (ingest/jt808/profiles.py; body cameras keep the camera-state reading they had, other
terminals read none); the device state keeps the external power voltage beside the battery;
an OsmAnd device may have a key it must send (a phone's server URL ending in /k/KEY); and a
JT/T 808 terminal registers only by naming the terminal id it was imported with.

Revision ID: 0013
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE device ADD COLUMN profile text NOT NULL DEFAULT 'standard'
    CHECK (profile IN ('standard', 'lawgrid-camera', 'battery-e1', 'huabao'));
UPDATE device SET profile = 'lawgrid-camera' WHERE kind = 'body_camera';
ALTER TABLE device_state ADD COLUMN power_v real;
ALTER TABLE device ADD COLUMN device_key text CHECK (length(device_key) BETWEEN 8 AND 128);
-- The terminal id a JT/T 808 terminal must name when it registers (from the import; the
-- devices seeded so far get the last seven digits of their number, as the simulator sends).
ALTER TABLE device ADD COLUMN terminal_id text CHECK (length(terminal_id) BETWEEN 1 AND 30);
UPDATE device SET terminal_id = right(identifier, 7) WHERE protocol = 'jt808';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        "ALTER TABLE device_state DROP COLUMN power_v; "
        "ALTER TABLE device DROP COLUMN profile, DROP COLUMN device_key, DROP COLUMN terminal_id;"
    )
