"""Documents (执法文书, CASE-PROCEDURE.md §4.4, §4.5): versioned templates, number blocks,
documents with their rendered and sealed PDFs, signatures, and the organs' seal certificates.

- A template version never changes once loaded.
- Numbers come from blocks per unit, document type and year (`doc_number_block`); a block may be
  handed to a terminal so it issues numbered simple-procedure decisions offline. Blocks of one
  unit, type and year never overlap. Every number used has a row (`doc_number`) that is never
  deleted; a voided number keeps its row with the reason. The case and decision numbers that
  `doc_counter` handed out become a block of their own and keep their rows.
- On site: evidence captured on the terminal (append-only), the task's checklist, and retry keys
  so a terminal's resent submission never makes a second record.
- A document's PDF is hashed when rendered; a signature is bound to the hash of the PDF the
  signer saw (`signature_hash`) and is never changed. A document is sealed only with every
  signature its template asks for (`signatures_missing`); once sealed nothing in it changes
  but being voided, with a reason (`document_sealed`).

Revision ID: 0019
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE document_template (
    code        text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    version     integer NOT NULL CHECK (version >= 1),
    title       text NOT NULL,
    doc_type    text NOT NULL,
    spec        jsonb NOT NULL,
    sha256      text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, version)
);
CREATE TRIGGER document_template_immutable BEFORE UPDATE OR DELETE ON document_template
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();

CREATE TABLE doc_number_block (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id           integer NOT NULL REFERENCES enforcement_unit(id),
    doc_type          text NOT NULL,
    year              integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    prefix            text NOT NULL CHECK (length(prefix) BETWEEN 1 AND 40),
    first_no          integer NOT NULL CHECK (first_no >= 1),
    last_no           integer NOT NULL CHECK (last_no >= first_no AND last_no - first_no < 100000),
    next_no           integer NOT NULL,          -- the desk's next number; a terminal's block is used in any order
    issued_to_device  integer REFERENCES device(id),
    issued_to_officer integer REFERENCES officer(id),
    issued_at         timestamptz,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (next_no BETWEEN first_no AND last_no + 1),
    CHECK ((issued_to_device IS NULL) = (issued_at IS NULL))
);
CREATE INDEX doc_number_block_key ON doc_number_block (unit_id, doc_type, year, first_no);

CREATE FUNCTION lawgrid_block_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('doc_number_block'), NEW.unit_id);
    IF EXISTS (SELECT 1 FROM doc_number_block b
               WHERE b.unit_id = NEW.unit_id AND b.doc_type = NEW.doc_type AND b.year = NEW.year
                 AND b.id <> NEW.id AND b.first_no <= NEW.last_no AND NEW.first_no <= b.last_no) THEN
        PERFORM lawgrid_refuse('number_block_overlap', 'number blocks of one unit, type and year never overlap');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER doc_number_block_overlap BEFORE INSERT OR UPDATE OF first_no, last_no ON doc_number_block
    FOR EACH ROW EXECUTE FUNCTION lawgrid_block_no_overlap();

CREATE TABLE document (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id           bigint REFERENCES enf_case(id),
    inspection_id     bigint REFERENCES inspection(id),
    unit_id           integer NOT NULL REFERENCES enforcement_unit(id),
    template_code     text NOT NULL,
    template_version  integer NOT NULL,
    doc_no            text UNIQUE,
    status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'sealed', 'voided')),
    body              jsonb NOT NULL,
    pdf               bytea,
    pdf_sha256        text,
    rendered_at       timestamptz,
    sealed_pdf        bytea,
    sealed_sha256     text,
    sealed_at         timestamptz,
    seal_serial       text,
    void_reason       text,
    client_key        text,                       -- a terminal's retry key: one record however often sent
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (template_code, template_version) REFERENCES document_template (code, version),
    CHECK (case_id IS NOT NULL OR inspection_id IS NOT NULL),
    CHECK (status = 'draft' OR status = 'voided' OR pdf_sha256 IS NOT NULL),
    CHECK (status <> 'sealed' OR sealed_sha256 IS NOT NULL),
    CHECK (status <> 'voided' OR length(void_reason) > 0),
    UNIQUE (created_by, client_key)
);
CREATE INDEX document_case ON document (case_id, id);
CREATE INDEX document_inspection ON document (inspection_id, id) WHERE inspection_id IS NOT NULL;

CREATE TABLE doc_number (
    block_id     bigint NOT NULL REFERENCES doc_number_block(id),
    no           integer NOT NULL,
    doc_no       text NOT NULL UNIQUE,
    document_id  bigint UNIQUE REFERENCES document(id),
    used_at      timestamptz NOT NULL DEFAULT now(),
    used_by      text NOT NULL,
    voided       boolean NOT NULL DEFAULT false,
    void_reason  text,
    voided_by    text,
    voided_at    timestamptz,
    PRIMARY KEY (block_id, no),
    CHECK (NOT voided OR (length(void_reason) > 0 AND voided_by IS NOT NULL))
);

-- a number's row stays: it may be voided (with its reason) or linked to its document, nothing else
CREATE FUNCTION lawgrid_doc_number_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM lawgrid_refuse('number_kept', 'a used document number keeps its row; void it instead');
    END IF;
    IF OLD.voided AND NOT NEW.voided THEN
        PERFORM lawgrid_refuse('number_kept', 'a voided number stays voided');
    END IF;
    IF (to_jsonb(NEW) - ARRAY['voided', 'void_reason', 'voided_by', 'voided_at', 'document_id'])
       IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['voided', 'void_reason', 'voided_by', 'voided_at', 'document_id'])
       OR (OLD.document_id IS NOT NULL AND NEW.document_id IS DISTINCT FROM OLD.document_id) THEN
        PERFORM lawgrid_refuse('number_kept', 'a used document number is never changed');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER doc_number_kept BEFORE UPDATE OR DELETE ON doc_number
    FOR EACH ROW EXECUTE FUNCTION lawgrid_doc_number_kept();

CREATE TABLE document_signature (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id          bigint NOT NULL REFERENCES document(id),
    signer_kind          text NOT NULL CHECK (signer_kind IN ('officer', 'party', 'witness', 'reviewer', 'head')),
    signer_name          text NOT NULL CHECK (length(signer_name) BETWEEN 1 AND 100),
    signer_ref           text,                    -- an officer's certificate number, a party's id number
    method               text NOT NULL CHECK (method IN ('handwritten_capture', 'refused')),
    image                bytea,
    image_sha256         text,
    doc_hash_at_signing  text NOT NULL,
    signed_at            timestamptz NOT NULL DEFAULT now(),
    login                text NOT NULL,           -- the account on the terminal
    device_id            integer REFERENCES device(id),
    geom                 geometry(Point, 4326),
    refusal_reason       text,
    witness              text,
    media_clip           text,                    -- the body camera's clip of the signing or the refusal
    client_key           text,                    -- a terminal's retry key: one signature however often sent
    UNIQUE (login, client_key),
    CHECK (method <> 'handwritten_capture' OR (image IS NOT NULL AND image_sha256 IS NOT NULL)),
    CHECK (method <> 'refused' OR (length(refusal_reason) > 0
                                   AND (length(witness) > 0 OR length(media_clip) > 0)))
);
CREATE INDEX document_signature_document ON document_signature (document_id, id);
CREATE TRIGGER document_signature_append_only BEFORE UPDATE OR DELETE ON document_signature
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();

CREATE FUNCTION lawgrid_signature_bound() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    SELECT status, pdf_sha256 INTO d FROM document WHERE id = NEW.document_id FOR SHARE;
    IF d.status IS DISTINCT FROM 'issued' THEN
        PERFORM lawgrid_refuse('signature_status', 'only an issued document, not yet sealed, is signed');
    END IF;
    IF NEW.doc_hash_at_signing IS DISTINCT FROM d.pdf_sha256 THEN
        PERFORM lawgrid_refuse('signature_hash', 'the signature is bound to another version of the document');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_signature_bound BEFORE INSERT ON document_signature
    FOR EACH ROW EXECUTE FUNCTION lawgrid_signature_bound();

-- the signatures a template asks for that a document lacks, as "kind:needed"
CREATE FUNCTION lawgrid_signatures_missing(doc bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg((s->>'kind') || ':' || (s->>'min')), '{}')
    FROM document d
    JOIN document_template t ON t.code = d.template_code AND t.version = d.template_version
    CROSS JOIN LATERAL jsonb_array_elements(t.spec->'signers') s
    WHERE d.id = doc AND (s->>'min')::int > (
        SELECT count(*) FROM document_signature g
        WHERE g.document_id = d.id AND g.signer_kind = s->>'kind'
          AND (g.method <> 'refused' OR coalesce((s->>'refusal')::boolean, false)))
$$;

CREATE FUNCTION lawgrid_document_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            PERFORM lawgrid_refuse('document_sealed', 'an issued document is voided, never deleted');
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'voided' THEN
        PERFORM lawgrid_refuse('document_sealed', 'a voided document is never changed');
    END IF;
    IF OLD.status = 'sealed' AND (NEW.status <> 'voided'
        OR (to_jsonb(NEW) - ARRAY['status', 'void_reason', 'updated_at'])
           IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'void_reason', 'updated_at'])) THEN
        PERFORM lawgrid_refuse('document_sealed', 'a sealed document is never changed; void it and issue a new one');
    END IF;
    IF OLD.status = 'issued' AND NEW.status = 'issued'
       AND (NEW.body IS DISTINCT FROM OLD.body OR NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256) THEN
        PERFORM lawgrid_refuse('document_issued', 'an issued document is not edited; void it and draft a new one');
    END IF;
    IF NEW.status = 'sealed' AND OLD.status <> 'sealed'
       AND cardinality(lawgrid_signatures_missing(NEW.id)) > 0 THEN
        PERFORM lawgrid_refuse('signatures_missing', 'the document lacks signatures its template asks for');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_guard BEFORE UPDATE OR DELETE ON document
    FOR EACH ROW EXECUTE FUNCTION lawgrid_document_guard();

-- each enforcement body's seal: a certificate from LawGrid's own authority (issuer_id NULL: the
-- authority itself); the private key encrypted with the installation's seal passphrase
CREATE TABLE seal_certificate (
    serial       text PRIMARY KEY,
    body_id      integer UNIQUE REFERENCES enforcement_body(id),
    subject      text NOT NULL,
    is_authority boolean NOT NULL DEFAULT false,
    cert_pem     text NOT NULL,
    key_pem      text NOT NULL,
    not_before   timestamptz NOT NULL,
    not_after    timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (is_authority = (body_id IS NULL))
);
CREATE UNIQUE INDEX seal_certificate_one_authority ON seal_certificate (is_authority) WHERE is_authority;

-- on site (移动执法): evidence captured on the terminal (a photo with its time, place and hash, or a
-- note), kept as captured; the checklist of the task's check points; a terminal's retry key on a case
CREATE TABLE evidence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id bigint REFERENCES inspection(id),
    case_id       bigint REFERENCES enf_case(id),
    kind          text NOT NULL CHECK (kind IN ('photo', 'note')),
    note          text CHECK (length(note) <= 2000),
    content       bytea,
    mime          text,
    sha256        text,
    taken_at      timestamptz NOT NULL,
    geom          geometry(Point, 4326),
    device_id     integer REFERENCES device(id),
    client_key    text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (inspection_id IS NOT NULL OR case_id IS NOT NULL),
    CHECK (kind <> 'photo' OR (content IS NOT NULL AND sha256 IS NOT NULL AND mime IS NOT NULL)),
    CHECK (kind <> 'note' OR length(note) > 0),
    UNIQUE (created_by, client_key)
);
CREATE INDEX evidence_inspection ON evidence (inspection_id, id) WHERE inspection_id IS NOT NULL;
CREATE INDEX evidence_case ON evidence (case_id, id) WHERE case_id IS NOT NULL;
CREATE TRIGGER evidence_append_only BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();
ALTER TABLE inspection ADD COLUMN checklist jsonb;
ALTER TABLE enf_case ADD COLUMN client_key text;
CREATE UNIQUE INDEX enf_case_client_key ON enf_case (created_by, client_key) WHERE client_key IS NOT NULL;

-- the numbers doc_counter handed out become blocks and rows of their own
INSERT INTO doc_number_block (unit_id, doc_type, year, prefix, first_no, last_no, next_no, created_by)
SELECT c.unit_id, c.doc_type, c.year,
       '津滨' || u.code || CASE c.doc_type WHEN 'case' THEN '立' WHEN 'decision' THEN '罚决' ELSE '当罚' END,
       1, c.last_no, c.last_no + 1, 'migration 0019'
FROM doc_counter c JOIN enforcement_unit u ON u.id = c.unit_id;
INSERT INTO doc_number (block_id, no, doc_no, used_by)
SELECT b.id, n, b.prefix || '〔' || b.year || '〕' || n || '号', 'migration 0019'
FROM doc_number_block b CROSS JOIN LATERAL generate_series(b.first_no, b.last_no) n;
DROP TABLE doc_counter;
"""

DOWNGRADE = r"""
CREATE TABLE doc_counter (
    unit_id   integer NOT NULL REFERENCES enforcement_unit(id),
    doc_type  text NOT NULL,
    year      integer NOT NULL,
    last_no   integer NOT NULL,
    PRIMARY KEY (unit_id, doc_type, year)
);
INSERT INTO doc_counter SELECT unit_id, doc_type, year, max(last_no) FROM doc_number_block
    WHERE issued_to_device IS NULL GROUP BY unit_id, doc_type, year;
DROP INDEX enf_case_client_key;
ALTER TABLE enf_case DROP COLUMN client_key;
ALTER TABLE inspection DROP COLUMN checklist;
DROP TABLE evidence, seal_certificate, document_signature, doc_number, document, doc_number_block, document_template;
DROP FUNCTION lawgrid_document_guard(), lawgrid_signatures_missing(bigint), lawgrid_signature_bound(),
    lawgrid_doc_number_kept(), lawgrid_block_no_overlap();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
