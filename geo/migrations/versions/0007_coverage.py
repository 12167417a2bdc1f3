"""Coverage facts: one row per completed inspection (and per officer on it), carrying the
day of the previous inspection of the same target under each grouping. A target then counts
once in a window [s, e] through the one row whose previous day falls before s, so distinct
counts become plain counts over the window's rows (geo/coverage.py).

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE coverage_fact (
    inspection_id     bigint PRIMARY KEY REFERENCES inspection(id) ON DELETE CASCADE,
    target_id         bigint NOT NULL,
    day               date NOT NULL,          -- completion day, Beijing time
    done_at           timestamptz NOT NULL,
    township_code     varchar(9),
    domain_key        text NOT NULL,
    unit_id           integer,
    risk_level        smallint NOT NULL,
    result            text,
    plan_id           bigint,
    in_domain         boolean NOT NULL,       -- the target is registered in the inspection's domain
    in_unit_scope     boolean NOT NULL,       -- the target lies in the unit's area and domains
    prev_any          date,                   -- previous inspection of this target
    prev_domain       date,                   -- ... in this domain
    prev_unit         date,                   -- ... by this unit, in its scope
    prev_unit_domain  date,                   -- ... by this unit in this domain
    response_s        real,                   -- created -> on site
    on_time           boolean                 -- on site by the due time
);
CREATE INDEX coverage_fact_day ON coverage_fact (day);
CREATE INDEX coverage_fact_target ON coverage_fact (target_id, day);

CREATE TABLE coverage_officer_fact (
    inspection_id        bigint NOT NULL REFERENCES inspection(id) ON DELETE CASCADE,
    officer_id           integer NOT NULL,
    target_id            bigint NOT NULL,
    day                  date NOT NULL,
    done_at              timestamptz NOT NULL,
    township_code        varchar(9),
    domain_key           text NOT NULL,
    in_scope             boolean NOT NULL,    -- the target lies in his area and his unit's domains
    prev_officer         date,                -- his previous inspection (participation)
    prev_officer_target  date,                -- his previous inspection of this target, in scope
    PRIMARY KEY (inspection_id, officer_id)
);
CREATE INDEX coverage_officer_fact_day ON coverage_officer_fact (day);
CREATE INDEX coverage_officer_fact_officer ON coverage_officer_fact (officer_id, target_id, day);
"""

DOWNGRADE = "DROP TABLE coverage_officer_fact; DROP TABLE coverage_fact;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
