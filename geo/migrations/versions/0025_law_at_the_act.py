"""The law at the act (issue 32, item 4): a case records the day of the act (or, for an act that
continues, the day it was found, with the reason), the codified item version in force that day,
and whether the act concerns life, health or financial safety with harmful consequences (a
five-year limitation, 处罚法 第三十六条). One act, one fine (第二十九条): a second fine decision for
the same act of the same party is refused by the database too.

Revision ID: 0025
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE enf_case ADD COLUMN act_on date,
                     ADD COLUMN act_continues_reason text,
                     ADD COLUMN grave_interest boolean NOT NULL DEFAULT false,
                     ADD COLUMN harmful_consequences boolean NOT NULL DEFAULT false,
                     ADD COLUMN item_version_at_act integer;

CREATE FUNCTION lawgrid_one_fine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'penalty' AND coalesce((NEW.penalty->>'fine_yuan')::numeric, 0) > 0 AND EXISTS (
        SELECT 1 FROM enf_case c JOIN enf_case o ON o.id <> c.id AND o.item_code = c.item_code
            AND o.act_on = c.act_on AND coalesce(o.party_id_no, o.party_name) = coalesce(c.party_id_no, c.party_name)
        JOIN case_decision d ON d.case_id = o.id AND d.kind = 'penalty'
            AND coalesce((d.penalty->>'fine_yuan')::numeric, 0) > 0
        WHERE c.id = NEW.case_id AND c.act_on IS NOT NULL) THEN
        PERFORM lawgrid_refuse('one_act_one_fine', 'this act of this party was fined already');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_decision_one_fine BEFORE INSERT ON case_decision
    FOR EACH ROW EXECUTE FUNCTION lawgrid_one_fine();
"""

DOWNGRADE = """
DROP TRIGGER case_decision_one_fine ON case_decision;
DROP FUNCTION lawgrid_one_fine();
ALTER TABLE enf_case DROP COLUMN act_on, DROP COLUMN act_continues_reason, DROP COLUMN grave_interest,
    DROP COLUMN harmful_consequences, DROP COLUMN item_version_at_act;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
