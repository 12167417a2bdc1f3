"""Officer coverage facts learn the target's risk level and the officer's previous inspection
of the target in the same domain, so officer coverage under a domain or risk filter is
counted from the facts like every other grouping instead of recounted from the raw tables.

Revision ID: 0008
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE coverage_officer_fact
    ADD COLUMN risk_level smallint,
    ADD COLUMN prev_officer_target_domain date;   -- his previous inspection of this target in this domain
UPDATE coverage_officer_fact f SET risk_level = c.risk_level FROM coverage_fact c
WHERE c.inspection_id = f.inspection_id;
UPDATE coverage_officer_fact f SET prev_officer_target_domain = p.prev
FROM (SELECT inspection_id, officer_id,
             lag(day) OVER (PARTITION BY officer_id, target_id, domain_key ORDER BY day, done_at, inspection_id) AS prev
      FROM coverage_officer_fact WHERE in_scope) p
WHERE p.inspection_id = f.inspection_id AND p.officer_id = f.officer_id;
ALTER TABLE coverage_officer_fact ALTER COLUMN risk_level SET NOT NULL;
"""

DOWNGRADE = """
ALTER TABLE coverage_officer_fact DROP COLUMN prev_officer_target_domain, DROP COLUMN risk_level;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
