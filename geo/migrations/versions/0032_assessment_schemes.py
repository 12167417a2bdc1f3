"""Assessment schemes (考核方案, issue 35 item 4): per year, the indicators counted, their weights,
targets and scoring rules, set by the oversight role; a change is a new version (the old ones
stay, append-only), so a score can always be traced to the scheme it was computed under.

Revision ID: 0032
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE assessment_scheme (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    version     integer NOT NULL CHECK (version >= 1),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    rules       jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'array' AND jsonb_array_length(rules) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    UNIQUE (year, version)
);
CREATE TRIGGER assessment_scheme_append_only BEFORE UPDATE OR DELETE ON assessment_scheme
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();
"""

DOWNGRADE = """
DROP TABLE assessment_scheme;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
