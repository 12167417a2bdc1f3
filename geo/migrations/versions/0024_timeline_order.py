"""A timeline in order, held by the database too (issue 32, item 2): 立案 not before its source
was received, 告知 not before its approval, the party's answers (statements, waiver, a hearing
request) not before the notice's service, and the decision's service not before the decision.

Revision ID: 0024
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE enf_case ADD COLUMN approved_on date;

CREATE FUNCTION lawgrid_check_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE floor date; day date; what text;
BEGIN
    IF TG_TABLE_NAME = 'enf_case' THEN
        SELECT received_on INTO floor FROM case_source WHERE id = NEW.source_id;
        day := NEW.filed_on; what := 'filing before its source was received';
    ELSIF TG_TABLE_NAME = 'case_notice' AND TG_OP = 'INSERT' THEN
        SELECT approved_on INTO floor FROM enf_case WHERE id = NEW.case_id;
        day := NEW.served_on; what := 'a notice served before its approval';
    ELSIF TG_TABLE_NAME = 'case_notice' THEN
        floor := NEW.served_on; day := NEW.waived_on; what := 'a waiver before the notice was served';
    ELSIF TG_TABLE_NAME = 'case_statement' THEN
        SELECT served_on INTO floor FROM case_notice WHERE case_id = NEW.case_id ORDER BY id DESC LIMIT 1;
        day := NEW.received_on; what := 'a statement before the notice was served';
    ELSIF TG_TABLE_NAME = 'case_hearing' AND TG_OP = 'INSERT' THEN
        SELECT served_on INTO floor FROM case_notice WHERE case_id = NEW.case_id ORDER BY id DESC LIMIT 1;
        day := NEW.requested_on; what := 'a hearing asked for before the notice was served';
    ELSIF TG_TABLE_NAME = 'case_service' AND NEW.document = 'decision' THEN
        SELECT decided_on INTO floor FROM case_decision WHERE case_id = NEW.case_id;
        day := NEW.served_on; what := 'a decision served before it was made';
    END IF;
    IF floor IS NOT NULL AND day IS NOT NULL AND day < floor THEN
        PERFORM lawgrid_refuse('date_order', what);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER enf_case_timeline BEFORE INSERT ON enf_case
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_timeline();
CREATE TRIGGER case_notice_timeline BEFORE INSERT OR UPDATE OF waived_on ON case_notice
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_timeline();
CREATE TRIGGER case_statement_timeline BEFORE INSERT ON case_statement
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_timeline();
CREATE TRIGGER case_hearing_timeline BEFORE INSERT ON case_hearing
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_timeline();
CREATE TRIGGER case_service_timeline BEFORE INSERT ON case_service
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_timeline();
"""

DOWNGRADE = """
DROP TRIGGER enf_case_timeline ON enf_case;
DROP TRIGGER case_notice_timeline ON case_notice;
DROP TRIGGER case_statement_timeline ON case_statement;
DROP TRIGGER case_hearing_timeline ON case_hearing;
DROP TRIGGER case_service_timeline ON case_service;
DROP FUNCTION lawgrid_check_timeline();
ALTER TABLE enf_case DROP COLUMN approved_on;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
