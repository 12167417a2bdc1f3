"""Documents are the acts (issue 32, item 3): a notice or a decision is served by serving its
sealed document, proved by a sealed 送达回证 (or, for electronic service, the party's sealed
送达地址确认书; for 公告送达 the announcement's date, deemed served 30 days later); an act done on
paper is a 补录 naming the paper document. A case reaches `notified`, `served` or `executing` only
with its service recorded so.

Revision ID: 0028
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

UPGRADE = """
-- A voided 决定书 gives its decision's number back to the one re-issued in its place (the number
-- is the decision's, not the paper's); a number stays unique among the documents in force.
ALTER TABLE document DROP CONSTRAINT document_doc_no_key;
CREATE UNIQUE INDEX document_doc_no_live ON document (doc_no) WHERE status <> 'voided';

ALTER TABLE case_service
    ADD COLUMN document_id     bigint REFERENCES document(id),
    ADD COLUMN receipt_id      bigint REFERENCES document(id),
    ADD COLUMN confirmation_id bigint REFERENCES document(id),
    ADD COLUMN announced_on    date,
    ADD COLUMN paper_no        text;

-- A sealed document of the case, drafted from one of the given templates.
CREATE FUNCTION lawgrid_sealed_of_case(doc bigint, case_id bigint, codes text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM document d WHERE d.id = doc AND d.case_id = $2
                   AND d.status = 'sealed' AND d.template_code = ANY(codes))
$$;

CREATE FUNCTION lawgrid_service_documents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.paper_no IS NOT NULL AND length(NEW.paper_no) > 0 THEN
        RETURN NEW;  -- 补录 of a service done on paper: the paper document's number stands in
    END IF;
    IF NOT lawgrid_sealed_of_case(NEW.document_id, NEW.case_id,
            CASE NEW.document WHEN 'notice' THEN ARRAY['penalty_notice'] ELSE ARRAY['penalty_decision'] END) THEN
        PERFORM lawgrid_refuse('service_document', 'the served document must be the case''s sealed document');
    END IF;
    IF NEW.method = 'electronic' THEN
        IF NOT lawgrid_sealed_of_case(NEW.confirmation_id, NEW.case_id, ARRAY['address_confirmation']) THEN
            PERFORM lawgrid_refuse('service_method', 'electronic service needs the sealed address confirmation');
        END IF;
    ELSIF NEW.method = 'public_notice' THEN
        IF NEW.announced_on IS NULL OR NEW.served_on <> NEW.announced_on + 30 THEN
            PERFORM lawgrid_refuse('public_notice_period', 'public notice is deemed served 30 days after it');
        END IF;
    ELSIF NOT lawgrid_sealed_of_case(NEW.receipt_id, NEW.case_id, ARRAY['service_receipt']) THEN
        PERFORM lawgrid_refuse('service_receipt', 'service is proved by the sealed 送达回证');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_service_documents BEFORE INSERT ON case_service
    FOR EACH ROW EXECUTE FUNCTION lawgrid_service_documents();

-- No case is notified, served or executing without the service that makes it so.
CREATE FUNCTION lawgrid_status_needs_service() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_service s WHERE s.case_id = NEW.id
                   AND s.document = CASE NEW.status WHEN 'notified' THEN 'notice' ELSE 'decision' END) THEN
        PERFORM lawgrid_refuse('service_document', format('a case is %s only once its document is served', NEW.status));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER enf_case_status_needs_service BEFORE UPDATE OF status ON enf_case
    FOR EACH ROW WHEN (NEW.status IN ('notified', 'served', 'executing') AND NEW.status IS DISTINCT FROM OLD.status
                       AND OLD.status IN ('approved', 'decided'))
    EXECUTE FUNCTION lawgrid_status_needs_service();
"""

DOWNGRADE = """
DROP INDEX document_doc_no_live;
ALTER TABLE document ADD CONSTRAINT document_doc_no_key UNIQUE (doc_no);
DROP TRIGGER enf_case_status_needs_service ON enf_case;
DROP FUNCTION lawgrid_status_needs_service();
DROP TRIGGER case_service_documents ON case_service;
DROP FUNCTION lawgrid_service_documents();
DROP FUNCTION lawgrid_sealed_of_case(bigint, bigint, text[]);
ALTER TABLE case_service DROP COLUMN document_id, DROP COLUMN receipt_id, DROP COLUMN confirmation_id,
    DROP COLUMN announced_on, DROP COLUMN paper_no;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
