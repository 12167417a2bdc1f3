"""案卷评查 (issue 35, item 5; 行政执法监督条例 第十五条): the supervising organ draws a unit's
decided case files at random from a published seed and scores each against a checklist; a file
below the pass mark is a lead for a supervision case. Each review is kept as written
(append-only).

Revision ID: 0033
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE file_review (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES enf_case(id),
    unit_id      integer NOT NULL REFERENCES enforcement_unit(id),
    seed         text,                         -- the published seed of the draw it came from
    checks       jsonb NOT NULL,               -- {item: true | false}
    score        numeric(5, 2) NOT NULL CHECK (score BETWEEN 0 AND 100),
    note         text,
    reviewed_on  date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL
);
CREATE INDEX file_review_unit ON file_review (unit_id, reviewed_on);
CREATE TRIGGER file_review_append_only BEFORE UPDATE OR DELETE ON file_review
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();
"""

DOWNGRADE = """
DROP TABLE file_review;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
