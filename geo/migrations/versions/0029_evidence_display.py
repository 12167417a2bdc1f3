"""A photo kept as evidence keeps its bytes as sent (hashed) and gets a derivative to display,
decoded and re-encoded by LawGrid (issue 33, item 2); an officer holds at most 200 unused
numbers of terminal blocks per document type and year (issue 33, item 5).

Revision ID: 0029
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE evidence ADD COLUMN display bytea;

CREATE FUNCTION lawgrid_numbers_outstanding(officer integer, kind text, yr integer) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(b.last_no - b.first_no + 1
                        - (SELECT count(*) FROM doc_number n WHERE n.block_id = b.id)), 0)
    FROM doc_number_block b
    WHERE b.issued_to_officer = officer AND b.doc_type = kind AND b.year = yr
$$;
CREATE FUNCTION lawgrid_number_block_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('doc_number_block_officer'), NEW.issued_to_officer);
    IF lawgrid_numbers_outstanding(NEW.issued_to_officer, NEW.doc_type, NEW.year)
       + (NEW.last_no - NEW.first_no + 1) > 200 THEN
        PERFORM lawgrid_refuse('number_block_outstanding', 'an officer holds at most 200 unused numbers');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER doc_number_block_cap BEFORE INSERT ON doc_number_block
    FOR EACH ROW WHEN (NEW.issued_to_officer IS NOT NULL) EXECUTE FUNCTION lawgrid_number_block_cap();
"""

DOWNGRADE = """
DROP TRIGGER doc_number_block_cap ON doc_number_block;
DROP FUNCTION lawgrid_number_block_cap();
DROP FUNCTION lawgrid_numbers_outstanding(integer, text, integer);
ALTER TABLE evidence DROP COLUMN display;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
