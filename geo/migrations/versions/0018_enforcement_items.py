"""Codified enforcement items (执法事项, CASE-PROCEDURE.md §4.3): versioned items with their
violated and penalty provisions, statutory tiers and fine ranges, discretion levels and bands,
hearing, legal-review and publication hints, and the check points an inspection of the item
covers (检查事项清单). A version is immutable once loaded (only its `valid_to` is set, when a
newer version replaces it) so a case keeps the rules it was filed under (`enf_case.item_version`).

The database holds the statutory bound of every penalty decision: a fine above the range of its
item's tier, or below it without a 减轻 judgement, is refused (`statutory_range`), as is a
decision whose item is not codified. The discretion check itself (levels, bands, reasons) is
the core's (`geo/discretion.py`).

Revision ID: 0018
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE enforcement_item (
    code               text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    version            integer NOT NULL CHECK (version >= 1),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    power_type_key     text NOT NULL REFERENCES power_type(key),
    domain_key         text NOT NULL REFERENCES domain(key),
    basis              text,
    violated_provision text,
    penalty_provision  text,
    statutory          jsonb NOT NULL DEFAULT '{}',
    discretion         jsonb NOT NULL DEFAULT '{}',
    hearing            jsonb NOT NULL DEFAULT '{}',
    legal_review       jsonb NOT NULL DEFAULT '{}',
    publication        jsonb NOT NULL DEFAULT '{}',
    check_points       jsonb NOT NULL DEFAULT '[]',
    bands_derived      boolean NOT NULL DEFAULT false,
    verified           boolean NOT NULL DEFAULT true,
    source_doc         text,
    source_url         text,
    valid_from         date NOT NULL,
    valid_to           date,
    published_on       date,
    content_sha256     text NOT NULL CHECK (length(content_sha256) = 64),
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, version),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CHECK (power_type_key <> 'penalty' OR jsonb_array_length(statutory->'tiers') >= 1)
);
CREATE UNIQUE INDEX enforcement_item_current ON enforcement_item (code) WHERE valid_to IS NULL;

-- a loaded version never changes: only its valid_to is set when a newer one replaces it
CREATE FUNCTION lawgrid_item_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (to_jsonb(NEW) - 'valid_to') IS DISTINCT FROM (to_jsonb(OLD) - 'valid_to') THEN
        PERFORM lawgrid_refuse('item_version_immutable',
            'an item version is never changed or deleted; load a new version');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER enforcement_item_immutable BEFORE UPDATE OR DELETE ON enforcement_item
    FOR EACH ROW EXECUTE FUNCTION lawgrid_item_immutable();

ALTER TABLE enf_case ADD COLUMN item_version integer;
ALTER TABLE enf_case ADD CONSTRAINT enf_case_item_version
    FOREIGN KEY (item_code, item_version) REFERENCES enforcement_item (code, version);
ALTER TABLE enf_case ADD COLUMN discretion jsonb;  -- the last discretion check: level, band, verdict, reasons

-- The statutory range of a tier's fine, in yuan, for a base (违法所得, 货值金额, ...) where the fine
-- is a multiple; NULL when a multiple's base is missing. Mirrors geo.discretion.statutory_range.
CREATE FUNCTION lawgrid_fine_range(f jsonb, base numeric) RETURNS numrange LANGUAGE sql IMMUTABLE AS $$
SELECT CASE f->>'type'
    WHEN 'none' THEN numrange(0, 0, '[]')
    WHEN 'fixed' THEN numrange((f->>'min_yuan')::numeric, (f->>'max_yuan')::numeric, '[]')
    WHEN 'multiple' THEN CASE
        WHEN base IS NULL THEN NULL
        WHEN f ? 'floor_rule' AND base < (f->'floor_rule'->>'below_yuan')::numeric THEN
            numrange((f->'floor_rule'->>'min_yuan')::numeric, (f->'floor_rule'->>'max_yuan')::numeric, '[]')
        ELSE numrange(greatest(base, coalesce((f->>'base_floor_yuan')::numeric, 0)) * (f->>'min_times')::numeric,
                      greatest(base, coalesce((f->>'base_floor_yuan')::numeric, 0)) * (f->>'max_times')::numeric,
                      '[]')
        END
    END
$$;

CREATE FUNCTION lawgrid_statutory_gates(p_case bigint, p_kind text, p_penalty jsonb) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c enf_case;
    it enforcement_item;
    tier jsonb;
    r numrange;
    fine numeric := coalesce((p_penalty->>'fine_yuan')::numeric, 0);
BEGIN
    IF p_kind <> 'penalty' THEN
        RETURN '{}';
    END IF;
    SELECT * INTO c FROM enf_case WHERE id = p_case;
    SELECT * INTO it FROM enforcement_item
     WHERE code = c.item_code AND (version = c.item_version OR (c.item_version IS NULL AND valid_to IS NULL));
    IF it.code IS NULL THEN
        RETURN ARRAY['item_codified'];
    END IF;
    SELECT t INTO tier FROM jsonb_array_elements(it.statutory->'tiers') t
     WHERE t->>'id' = coalesce(p_penalty->>'tier', it.statutory->'tiers'->0->>'id');
    IF tier IS NULL THEN
        RETURN ARRAY['statutory_tier'];
    END IF;
    r := lawgrid_fine_range(tier->'fine', (p_penalty->>'base_yuan')::numeric);
    IF r IS NULL THEN
        RETURN ARRAY['statutory_base'];
    END IF;
    IF fine > upper(r) OR (fine < lower(r) AND NOT (p_penalty->>'discretion_level' = '减轻' AND fine > 0)) THEN
        RETURN ARRAY['statutory_range'];
    END IF;
    RETURN '{}';
END $$;

CREATE FUNCTION lawgrid_check_statutory() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE broken text[] := lawgrid_statutory_gates(NEW.case_id, NEW.kind, NEW.penalty);
BEGIN
    IF cardinality(broken) > 0 THEN
        PERFORM lawgrid_refuse(array_to_string(broken, ','), 'the penalty is outside its item''s statutory range');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_decision_statutory BEFORE INSERT OR UPDATE OF penalty, kind ON case_decision
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_statutory();
"""

DOWNGRADE = r"""
DROP TRIGGER case_decision_statutory ON case_decision;
DROP FUNCTION lawgrid_check_statutory(), lawgrid_statutory_gates(bigint, text, jsonb),
    lawgrid_fine_range(jsonb, numeric);
ALTER TABLE enf_case DROP CONSTRAINT enf_case_item_version, DROP COLUMN item_version, DROP COLUMN discretion;
DROP TABLE enforcement_item;
DROP FUNCTION lawgrid_item_immutable();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
