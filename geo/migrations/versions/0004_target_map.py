"""Targets on the map: a pyramid of pre-aggregated grid cells for low zooms.

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- One row per (level, cell, township, risk, domain set). Domain sets are bit masks, so a
-- domain filter sums exactly (a target with two selected domains is counted once).
CREATE TABLE target_cell (
    level          smallint NOT NULL,
    cx             integer NOT NULL,
    cy             integer NOT NULL,
    township_code  varchar(9),
    risk_level     smallint NOT NULL,
    domain_mask    bigint NOT NULL,
    n              integer NOT NULL,
    sum_x          double precision NOT NULL,
    sum_y          double precision NOT NULL
);
CREATE INDEX target_cell_level_xy ON target_cell (level, cx, cy);

-- The domain order behind the masks, and when the cells were last rebuilt.
CREATE TABLE target_cell_meta (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    domain_keys   text[] NOT NULL,
    targets       bigint NOT NULL,
    refreshed_at  timestamptz NOT NULL
);
"""

DOWNGRADE = "DROP TABLE target_cell_meta; DROP TABLE target_cell;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
