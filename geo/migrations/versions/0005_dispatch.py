"""Dispatch: inspection tasks, crews, lifecycle events, the conflict-of-interest register
and random inspection plans (双随机).

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE random_plan (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    seed          text NOT NULL,               -- published: anyone can redo the draw
    share         numeric NOT NULL CHECK (share > 0 AND share <= 1),
    domains       text[] NOT NULL DEFAULT '{}',
    townships     text[] NOT NULL DEFAULT '{}',
    risks         smallint[] NOT NULL DEFAULT '{}',
    due_at        timestamptz NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspection (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_id     bigint NOT NULL REFERENCES target(id),
    domain_key    text NOT NULL REFERENCES domain(key),
    items         text[] NOT NULL DEFAULT '{}',   -- power-list item codes
    source        text NOT NULL CHECK (source IN ('map', 'complaint', 'plan', 'bulk', 'api')),
    complaint     jsonb,                          -- 投诉举报: caller and report
    plan_id       bigint REFERENCES random_plan(id),
    priority      smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
    due_at        timestamptz NOT NULL,
    crew_size     smallint NOT NULL DEFAULT 2 CHECK (crew_size >= 2),
    status        text NOT NULL DEFAULT 'created' CHECK (status IN
                  ('created', 'assigned', 'accepted', 'en_route', 'on_site', 'completed', 'declined', 'cancelled')),
    result        text CHECK (result IN ('compliant', 'violation', 'could_not_inspect')),
    unit_id       integer REFERENCES enforcement_unit(id),
    joint         boolean NOT NULL DEFAULT false,
    note          text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    assigned_at   timestamptz,
    accepted_at   timestamptz,
    en_route_at   timestamptz,
    on_site_at    timestamptz,
    completed_at  timestamptz,
    closed_at     timestamptz,                    -- declined or cancelled
    CHECK (status <> 'completed' OR result IS NOT NULL)
);
CREATE INDEX inspection_open ON inspection (status, due_at) WHERE status NOT IN ('completed', 'declined', 'cancelled');
CREATE INDEX inspection_target ON inspection (target_id, created_at DESC);
CREATE INDEX inspection_plan ON inspection (plan_id);

CREATE TABLE inspection_officer (
    inspection_id  bigint NOT NULL REFERENCES inspection(id) ON DELETE CASCADE,
    officer_id     integer NOT NULL REFERENCES officer(id),
    due_day        date NOT NULL,                 -- for the daily cap
    PRIMARY KEY (inspection_id, officer_id)
);
CREATE INDEX inspection_officer_day ON inspection_officer (officer_id, due_day);

CREATE TABLE inspection_event (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id  bigint NOT NULL REFERENCES inspection(id) ON DELETE CASCADE,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor          text NOT NULL,
    from_status    text,
    to_status      text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX inspection_event_task ON inspection_event (inspection_id, at);

-- 回避: an officer with a conflict of interest never inspects that target.
CREATE TABLE recusal (
    officer_id   integer NOT NULL REFERENCES officer(id) ON DELETE CASCADE,
    target_id    bigint NOT NULL REFERENCES target(id) ON DELETE CASCADE,
    reason       text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (officer_id, target_id)
);
"""

DOWNGRADE = """
DROP TABLE recusal; DROP TABLE inspection_event; DROP TABLE inspection_officer;
DROP TABLE inspection; DROP TABLE random_plan;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
