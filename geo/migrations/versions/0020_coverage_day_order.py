"""Coverage facts in day order, and an index for the officers' numerators.

A window's numerators read the facts of its days. Facts rebuilt from a bulk load came out in
the inspections' order, so even a month's 136,000 facts at five million lay on every page of
the table (78,000 pages read for one month). The rebuild now writes them in day order (as
completions append them anyway); this migration puts existing facts in that order once.

Only one officer fact in twelve is in the officer's own scope (his area, his unit's domains),
and those are all the officer grouping counts: a partial index over them, holding what the
count reads, answers it from the index alone.

Revision ID: 0020
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = """
CLUSTER coverage_fact USING coverage_fact_day;
CLUSTER coverage_officer_fact USING coverage_officer_fact_day;
CREATE INDEX coverage_officer_fact_scope ON coverage_officer_fact (day)
    INCLUDE (officer_id, township_code, domain_key, risk_level, prev_officer_target, prev_officer_target_domain)
    WHERE in_scope;
ANALYZE coverage_fact;
ANALYZE coverage_officer_fact;
"""

DOWNGRADE = "DROP INDEX coverage_officer_fact_scope;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
