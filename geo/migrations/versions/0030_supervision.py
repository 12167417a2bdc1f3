"""Supervision (在线监督考核, issue 35): the platform's enforcement records from before LawGrid
(imported from the district's earlier platform: inspections, penalties, 区域巡查, 现场规范,
教育改正), the units' enforcement staff roster (持证率), and 复议 outcomes (纠错率, 调撤率).

Revision ID: 0030
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

UPGRADE = """
-- 执法记录: one enforcement act recorded on the platform outside LawGrid's own inspections
-- and cases (history imported from the earlier platform, and the kinds LawGrid does not model).
CREATE TABLE enforcement_record (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('inspection', 'penalty_simple', 'penalty_ordinary',
                                                 'patrol', 'onsite_correction', 'education')),
    unit_id        integer NOT NULL REFERENCES enforcement_unit(id),
    body_id        integer REFERENCES enforcement_body(id),
    township_code  varchar(9) REFERENCES township(code),
    item_code      text,               -- the power-list item exercised (履职率)
    officer_ids    integer[] NOT NULL DEFAULT '{}',
    on_date        date NOT NULL,
    fine_yuan      numeric(14, 2) CHECK (fine_yuan IS NULL OR fine_yuan >= 0),
    ref            text,               -- the record's number on the platform it came from
    origin         text NOT NULL DEFAULT 'import',
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT 'import',
    CHECK (kind NOT LIKE 'penalty%' OR item_code IS NOT NULL)
);
CREATE INDEX enforcement_record_date ON enforcement_record (on_date, unit_id);
CREATE INDEX enforcement_record_officers ON enforcement_record USING gin (officer_ids);
-- the rarer kinds (penalties: about a tenth) read without the year's inspections
CREATE INDEX enforcement_record_kind ON enforcement_record (kind, on_date);

-- 执法人员名册: the people a unit employs in enforcement posts, certified or not (持证率).
CREATE TABLE staff_member (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        integer NOT NULL REFERENCES enforcement_unit(id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    officer_id     integer UNIQUE REFERENCES officer(id),   -- his certificate, if he holds one
    on_roster_from date NOT NULL,
    on_roster_to   date,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT 'import',
    CHECK (on_roster_to IS NULL OR on_roster_to >= on_roster_from)
);
CREATE INDEX staff_member_unit ON staff_member (unit_id);

-- 行政复议: a reconsideration of one of the units' acts, and how it was decided.
CREATE TABLE reconsideration (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        integer NOT NULL REFERENCES enforcement_unit(id),
    case_id        bigint REFERENCES enf_case(id),
    ref            text,
    received_on    date NOT NULL,
    decided_on     date,
    outcome        text CHECK (outcome IN ('upheld', 'terminated', 'dismissed', 'revoked', 'altered',
                                           'confirmed_unlawful', 'ordered_to_act', 'mediated', 'withdrawn')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT 'import',
    CHECK ((outcome IS NULL) = (decided_on IS NULL)),
    CHECK (decided_on IS NULL OR decided_on >= received_on)
);
CREATE INDEX reconsideration_decided ON reconsideration (decided_on, unit_id);
"""

DOWNGRADE = """
DROP TABLE reconsideration;
DROP TABLE staff_member;
DROP TABLE enforcement_record;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
