"""Nobody signs for another account (issue 32, item 6): the head's slot is signed by an organ head,
the reviewer's by a reviewer who gave an opinion on the case, each through the account the
signature records.

Revision ID: 0027
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION lawgrid_signature_by_account() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE u app_user; c bigint;
BEGIN
    IF NEW.signer_kind IN ('head', 'reviewer') THEN
        SELECT * INTO u FROM app_user WHERE username = NEW.login;
        SELECT case_id INTO c FROM document WHERE id = NEW.document_id;
        IF u.id IS NULL OR c IS NULL
           OR (NEW.signer_kind = 'head' AND u.role <> 'organ_head')
           OR (NEW.signer_kind = 'reviewer' AND NOT EXISTS (
                SELECT 1 FROM case_review r WHERE r.case_id = c AND r.reviewer_user = u.id
                AND r.opinion IS NOT NULL)) THEN
            PERFORM lawgrid_refuse('signature_own_account', 'the slot is signed by its holder, through his account');
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_signature_by_account BEFORE INSERT ON document_signature
    FOR EACH ROW EXECUTE FUNCTION lawgrid_signature_by_account();
"""

DOWNGRADE = """
DROP TRIGGER document_signature_by_account ON document_signature;
DROP FUNCTION lawgrid_signature_by_account();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
