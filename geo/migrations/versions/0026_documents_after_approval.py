"""A document that records an approval is numbered and sealed only after it (issue 32, item 6):
in the ordinary procedure the 告知书 after the head approved the proposed penalty, the 决定书
after the decision is made.

Revision ID: 0026
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION lawgrid_document_after_approval() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c enf_case;
BEGIN
    SELECT * INTO c FROM enf_case WHERE id = NEW.case_id;
    IF c.id IS NOT NULL AND c.procedure = 'ordinary' AND (
        (NEW.template_code = 'penalty_notice' AND c.approved_on IS NULL)
        OR (NEW.template_code = 'penalty_decision'
            AND NOT EXISTS (SELECT 1 FROM case_decision d WHERE d.case_id = c.id))) THEN
        PERFORM lawgrid_refuse('document_before_approval', 'the approval this document records is not given yet');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_after_approval BEFORE UPDATE OF status ON document
    FOR EACH ROW WHEN (NEW.status IN ('issued', 'sealed') AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION lawgrid_document_after_approval();
"""

DOWNGRADE = """
DROP TRIGGER document_after_approval ON document;
DROP FUNCTION lawgrid_document_after_approval();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
