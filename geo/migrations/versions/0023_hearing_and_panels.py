"""Hearing rights kept and panels where the rules ask for them (issue 32).

- A statement is not a waiver: the decision waits for the party's window unless he waived in
  writing both the statements and, where the notice offered one, the hearing
  (处罚法 第六十四条; 程序规定 第五十七条). The notice records why it offers a hearing.
- 集体讨论 for every case that went to 法制审核 (程序规定 第六十条第二款), not only major ones.
- An extension is granted only before the limit it extends has passed, and one decided by the
  heads' collective discussion names a discussion on record (程序规定 第六十四条).

Revision ID: 0023
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE case_notice ADD COLUMN hearing_basis text[] NOT NULL DEFAULT '{}',
                        ADD COLUMN hearing_waived boolean NOT NULL DEFAULT false;
ALTER TABLE case_extension ADD COLUMN granted_on date NOT NULL DEFAULT CURRENT_DATE;

CREATE OR REPLACE FUNCTION lawgrid_decision_gates(p_case bigint, p_kind text, p_penalty jsonb, p_day date)
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c enf_case;
    n case_notice;
    h case_hearing;
    res text[] := '{}';
    fine numeric := coalesce((p_penalty->>'fine_yuan')::numeric, 0);
    kinds text[] := coalesce(ARRAY(SELECT jsonb_array_elements_text(p_penalty->'kinds')), '{}');
BEGIN
    SELECT * INTO c FROM enf_case WHERE id = p_case;
    IF c.procedure = 'simple' THEN
        IF p_kind <> 'penalty' OR NOT kinds <@ ARRAY['warning', 'fine']
           OR fine > (CASE WHEN c.party_kind = 'natural' THEN 200 ELSE 3000 END)
           OR ('fine' = ANY(kinds)) <> (fine > 0) THEN
            res := array_append(res, 'simple_procedure_limits');
        END IF;
        RETURN res;
    END IF;
    -- (a) a passed review of the right kind, of the facts, items and penalty as they stand
    IF NOT EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = p_case AND r.opinion = 'agree'
                   AND r.facts_version = c.facts_version
                   AND (r.kind = 'legal' OR NOT c.legal_review_required)) THEN
        res := array_append(res, 'review_passed');
    END IF;
    -- (g) within the 90-day limit, or an approved extension
    IF p_day > c.decision_due THEN
        res := array_append(res, 'decision_time_limit');
    END IF;
    -- 集体讨论 for major cases (行政处罚法 第五十七条第二款) and for every case that went to 法制审核
    -- (程序规定 第六十条第二款), heard ones included
    IF (c.major OR c.legal_review_required) AND NOT EXISTS (SELECT 1 FROM case_panel WHERE case_id = p_case
                               AND facts_version = c.facts_version) THEN
        res := array_append(res, 'panel_discussion');
    END IF;
    IF p_kind = 'penalty' THEN
        SELECT * INTO n FROM case_notice WHERE case_id = p_case ORDER BY id DESC LIMIT 1;
        IF n.id IS NULL THEN
            res := array_append(res, 'notice_served');
        ELSE
            -- (b) the party's five working days elapsed, or waived in writing: statements and, where
            -- the notice offered one, the hearing (a statement is no waiver: 程序规定 第五十七条)
            IF NOT (p_day > n.response_due
                    OR (n.waived_on IS NOT NULL AND (NOT n.hearing_right OR n.hearing_waived))) THEN
                res := array_append(res, 'notice_window');
            END IF;
            -- (d) nothing heavier than notified without a new 告知
            IF fine > coalesce((n.proposed->>'fine_yuan')::numeric, 0)
               OR coalesce((p_penalty->>'confiscation_yuan')::numeric, 0)
                  > coalesce((n.proposed->>'confiscation_yuan')::numeric, 0)
               OR NOT kinds <@ coalesce(ARRAY(SELECT jsonb_array_elements_text(n.proposed->'kinds')), '{}') THEN
                res := array_append(res, 'not_heavier_than_notified');
            END IF;
        END IF;
        -- (c) a hearing asked for is held and reported first
        SELECT * INTO h FROM case_hearing WHERE case_id = p_case;
        IF h.id IS NOT NULL AND h.report_on IS NULL THEN
            res := array_append(res, 'hearing_report');
        END IF;
    END IF;
    RETURN res;
END $$;

CREATE FUNCTION lawgrid_check_extension() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE due date;
BEGIN
    IF NEW.kind = 'decide' THEN
        SELECT decision_due INTO due FROM enf_case WHERE id = NEW.case_id;
        IF due IS NOT NULL AND NEW.granted_on > due THEN
            PERFORM lawgrid_refuse('extension_after_limit', 'the limit it would extend has passed');
        END IF;
        IF NEW.by_panel AND NOT EXISTS (SELECT 1 FROM case_panel p WHERE p.case_id = NEW.case_id
                                        AND p.held_on <= NEW.granted_on) THEN
            PERFORM lawgrid_refuse('extension_panel', 'no collective discussion on record');
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_extension_rules BEFORE INSERT ON case_extension
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_extension();
"""

DOWNGRADE = """
DROP TRIGGER case_extension_rules ON case_extension;
DROP FUNCTION lawgrid_check_extension();
CREATE OR REPLACE FUNCTION lawgrid_decision_gates(p_case bigint, p_kind text, p_penalty jsonb, p_day date)
RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c enf_case;
    n case_notice;
    h case_hearing;
    res text[] := '{}';
    fine numeric := coalesce((p_penalty->>'fine_yuan')::numeric, 0);
    kinds text[] := coalesce(ARRAY(SELECT jsonb_array_elements_text(p_penalty->'kinds')), '{}');
BEGIN
    SELECT * INTO c FROM enf_case WHERE id = p_case;
    IF c.procedure = 'simple' THEN
        IF p_kind <> 'penalty' OR NOT kinds <@ ARRAY['warning', 'fine']
           OR fine > (CASE WHEN c.party_kind = 'natural' THEN 200 ELSE 3000 END)
           OR ('fine' = ANY(kinds)) <> (fine > 0) THEN
            res := array_append(res, 'simple_procedure_limits');
        END IF;
        RETURN res;
    END IF;
    -- (a) a passed review of the right kind, of the facts, items and penalty as they stand
    IF NOT EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = p_case AND r.opinion = 'agree'
                   AND r.facts_version = c.facts_version
                   AND (r.kind = 'legal' OR NOT c.legal_review_required)) THEN
        res := array_append(res, 'review_passed');
    END IF;
    -- (g) within the 90-day limit, or an approved extension
    IF p_day > c.decision_due THEN
        res := array_append(res, 'decision_time_limit');
    END IF;
    -- 集体讨论 for major cases (行政处罚法 第五十七条第二款)
    IF c.major AND NOT EXISTS (SELECT 1 FROM case_panel WHERE case_id = p_case
                               AND facts_version = c.facts_version) THEN
        res := array_append(res, 'panel_discussion');
    END IF;
    IF p_kind = 'penalty' THEN
        SELECT * INTO n FROM case_notice WHERE case_id = p_case ORDER BY id DESC LIMIT 1;
        IF n.id IS NULL THEN
            res := array_append(res, 'notice_served');
        ELSE
            -- (b) the party's five working days elapsed, waived in writing, or statements re-checked
            IF NOT (p_day > n.response_due OR n.waived_on IS NOT NULL
                    OR EXISTS (SELECT 1 FROM case_statement s WHERE s.case_id = p_case
                               AND s.received_on >= n.served_on)) THEN
                res := array_append(res, 'notice_window');
            END IF;
            -- (d) nothing heavier than notified without a new 告知
            IF fine > coalesce((n.proposed->>'fine_yuan')::numeric, 0)
               OR coalesce((p_penalty->>'confiscation_yuan')::numeric, 0)
                  > coalesce((n.proposed->>'confiscation_yuan')::numeric, 0)
               OR NOT kinds <@ coalesce(ARRAY(SELECT jsonb_array_elements_text(n.proposed->'kinds')), '{}') THEN
                res := array_append(res, 'not_heavier_than_notified');
            END IF;
        END IF;
        -- (c) a hearing asked for is held and reported first
        SELECT * INTO h FROM case_hearing WHERE case_id = p_case;
        IF h.id IS NOT NULL AND h.report_on IS NULL THEN
            res := array_append(res, 'hearing_report');
        END IF;
    END IF;
    RETURN res;
END $$;
ALTER TABLE case_extension DROP COLUMN granted_on;
ALTER TABLE case_notice DROP COLUMN hearing_basis, DROP COLUMN hearing_waived;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
