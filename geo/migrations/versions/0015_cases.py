"""Cases (办案): the working-day calendar, case sources, ordinary and simple procedure cases,
their officers, reviews, notices, statements, hearings, panels, decisions and service, the
append-only case history, clock pauses and extensions, and warnings.

The legal gates live here as functions that list the rules a step would break
(`lawgrid_review_gates`, `lawgrid_decision_gates`, `lawgrid_crew_gates`); the core calls them
to explain what a user may do now, and triggers call them to refuse any write, by any path,
that breaks one. A trigger's refusal is SQLSTATE LG422 with the message "rule: reason".
The specification is ../shared/domain/CASE-PROCEDURE.md (§3 calendar, §4.1 machine, §4.2 model).

Revision ID: 0015
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- roles of case handling; officers' accounts are linked to their officer rows
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN ('admin', 'operator', 'dispatcher',
    'leader', 'supervisor', 'auditor', 'officer', 'legal_reviewer', 'case_reviewer', 'organ_head',
    'hearing_officer', 'oversight'));
ALTER TABLE app_user ADD COLUMN officer_id integer UNIQUE REFERENCES officer(id) ON DELETE SET NULL;
ALTER TABLE app_user ADD COLUMN legal_qualification_no text CHECK (length(legal_qualification_no) BETWEEN 4 AND 40);
ALTER TABLE app_user ADD CONSTRAINT app_user_officer_linked CHECK (role <> 'officer' OR officer_id IS NOT NULL);

-- 法制审核 catalogue as data: an item on it always goes to legal review (行政处罚法 第五十八条)
ALTER TABLE power_item ADD COLUMN legal_review boolean NOT NULL DEFAULT false;

CREATE FUNCTION lawgrid_refuse(rule text, reason text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: %', rule, reason USING ERRCODE = 'LG422';
END $$;

CREATE FUNCTION lawgrid_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Working days: the State Council's schedule (weekend 调休 days included), then overrides.
-- ordinal = working days on or before the day, so "n working days after" is one index probe.
CREATE TABLE work_calendar (
    day         date PRIMARY KEY,
    is_workday  boolean NOT NULL,
    source      text NOT NULL,
    note        text,
    ordinal     integer
);
CREATE INDEX work_calendar_ordinal ON work_calendar (ordinal) WHERE is_workday;

CREATE FUNCTION lawgrid_calendar_renumber() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE work_calendar c SET ordinal = s.o
    FROM (SELECT day, (sum(is_workday::int) OVER (ORDER BY day))::int AS o FROM work_calendar) s
    WHERE c.day = s.day AND c.ordinal IS DISTINCT FROM s.o;
    RETURN NULL;
END $$;
CREATE TRIGGER work_calendar_renumber AFTER INSERT OR DELETE OR UPDATE OF is_workday ON work_calendar
    FOR EACH STATEMENT EXECUTE FUNCTION lawgrid_calendar_renumber();

-- the n-th working day after start (start not counted); past the known days is an error
CREATE FUNCTION lawgrid_wd_after(start date, n integer) RETURNS date LANGUAGE plpgsql STABLE AS $$
DECLARE o integer; r date;
BEGIN
    IF n < 1 THEN RAISE EXCEPTION 'n must be at least 1' USING ERRCODE = '22023'; END IF;
    SELECT ordinal INTO o FROM work_calendar WHERE day = start;
    IF o IS NULL THEN
        PERFORM lawgrid_refuse('calendar_unknown', format('the working-day calendar has no entry for %s', start));
    END IF;
    SELECT day INTO r FROM work_calendar WHERE is_workday AND ordinal = o + n;
    IF r IS NULL THEN
        PERFORM lawgrid_refuse('calendar_unknown', format(
            '%s working days after %s run past the last known day of the calendar', n, start));
    END IF;
    RETURN r;
END $$;

-- start + n calendar days; a period ending on a holiday ends on the next working day
CREATE FUNCTION lawgrid_cd_after(start date, n integer) RETURNS date LANGUAGE plpgsql STABLE AS $$
DECLARE r date;
BEGIN
    SELECT day INTO r FROM work_calendar WHERE day >= start + n AND is_workday ORDER BY day LIMIT 1;
    IF r IS NULL OR NOT EXISTS (SELECT 1 FROM work_calendar WHERE day = start + n) THEN
        PERFORM lawgrid_refuse('calendar_unknown', format(
            '%s days after %s run past the last known day of the calendar', n, start));
    END IF;
    RETURN r;
END $$;

-- 案源: every violation found on inspection, and complaints, reports, transfers, assignments
CREATE TABLE case_source (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN
                       ('inspection', 'complaint', 'report', 'transfer', 'assigned', 'monitoring')),
    inspection_id      bigint UNIQUE REFERENCES inspection(id) ON DELETE CASCADE,
    unit_id            integer REFERENCES enforcement_unit(id),
    target_id          bigint REFERENCES target(id),
    domain_key         text REFERENCES domain(key),
    items              text[] NOT NULL DEFAULT '{}',
    summary            text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
    reporter           jsonb,                 -- name and phone of a complainant or reporter
    reporter_real_name boolean NOT NULL DEFAULT false,
    received_on        date NOT NULL,
    verify_due         date NOT NULL,         -- +15 WD (market 第十八条)
    accept_due         date,                  -- a 投诉: accepted or refused within 7 WD (投诉举报办法 第十四条)
    accepted_on        date,
    extended           boolean NOT NULL DEFAULT false,
    status             text NOT NULL DEFAULT 'registered'
                       CHECK (status IN ('registered', 'verifying', 'filed', 'not_filed', 'transferred')),
    outcome_on         date,
    outcome_by         text,
    outcome_reason     text,
    reporter_notify_due date,                 -- a real-name reporter told within 5 WD of the 立案 decision
    reporter_told_on   date,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'inspection' OR inspection_id IS NOT NULL),
    CHECK ((status IN ('filed', 'not_filed', 'transferred')) = (outcome_on IS NOT NULL))
);
CREATE INDEX case_source_open ON case_source (unit_id, verify_due) WHERE status IN ('registered', 'verifying');

-- a violation found on inspection is a case source at once, in the completing transaction
CREATE FUNCTION lawgrid_violation_source() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE received date := (coalesce(NEW.completed_at, now()) AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO case_source (kind, inspection_id, unit_id, target_id, domain_key, items, summary,
                             received_on, verify_due, created_by)
    VALUES ('inspection', NEW.id, NEW.unit_id, NEW.target_id, NEW.domain_key, NEW.items,
            coalesce(nullif(NEW.note, ''), '检查发现违法行为 / violation found on inspection'),
            received, lawgrid_wd_after(received, 15), 'system')
    ON CONFLICT (inspection_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER inspection_violation_source AFTER INSERT OR UPDATE OF status, result ON inspection
    FOR EACH ROW WHEN (NEW.status = 'completed' AND NEW.result = 'violation')
    EXECUTE FUNCTION lawgrid_violation_source();

CREATE TABLE doc_counter (
    unit_id   integer NOT NULL REFERENCES enforcement_unit(id),
    doc_type  text NOT NULL,
    year      integer NOT NULL,
    last_no   integer NOT NULL,
    PRIMARY KEY (unit_id, doc_type, year)
);

CREATE TABLE enf_case (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no                text NOT NULL UNIQUE,
    source_id              bigint UNIQUE REFERENCES case_source(id),
    procedure              text NOT NULL CHECK (procedure IN ('ordinary', 'simple')),
    status                 text NOT NULL CHECK (status IN (
        'filed', 'investigating', 'suspended', 'terminated', 'under_review', 'awaiting_approval', 'approved',
        'notified', 'statements', 'hearing_requested', 'hearing_held', 'hearing_reported', 'decided',
        'served', 'executing', 'performed', 'closed',
        'onsite_decided', 'onsite_filed',
        -- the next issue's (payment, enforcement, appeals): states kept for their hooks
        'paid', 'overdue', 'urged', 'court_applied', 'altered')),
    version                integer NOT NULL DEFAULT 1,
    unit_id                integer NOT NULL REFERENCES enforcement_unit(id),
    target_id              bigint REFERENCES target(id),
    party_kind             text NOT NULL CHECK (party_kind IN ('natural', 'legal', 'other')),
    party_name             text NOT NULL CHECK (length(party_name) BETWEEN 1 AND 200),
    party_id_no            text,              -- credit code or identity number
    party_address          text,
    item_code              text NOT NULL,
    item_name              text NOT NULL,
    legal_basis            text NOT NULL,
    facts                  text NOT NULL DEFAULT '',
    facts_version          integer NOT NULL DEFAULT 1,
    proposed               jsonb,             -- {"kinds": [...], "fine_yuan": n, "confiscation_yuan": n}
    discretion_reason      text,
    legal_review_required  boolean NOT NULL DEFAULT false,
    legal_review_reason    text,
    major                  boolean NOT NULL DEFAULT false,  -- 情节复杂或者重大违法: 集体讨论
    act_ended_on           date,
    filed_on               date NOT NULL,
    decision_due           date,              -- 90 days + extensions + pauses
    extension_days         integer NOT NULL DEFAULT 0,
    paused_days            integer NOT NULL DEFAULT 0,
    next_due               date,              -- the nearest open deadline (sorting, the sweep)
    next_clock             text,
    review_due             date,              -- the open review's 10 WD
    response_due           date,              -- the party's 5 WD after notice (not the organ's clock)
    hearing_host_due       date,              -- host named in 3 WD (听证办法 第十八条)
    hearing_report_due     date,              -- report within 5 WD of the hearing (第二十九条)
    decided_on             date,
    service_due            date,
    served_on              date,
    close_due              date,
    file_due               date,              -- simple procedure: 备案 within 7 WD
    closed_on              date,
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (procedure = 'simple' OR decision_due IS NOT NULL)
);
CREATE INDEX enf_case_unit_due ON enf_case (unit_id, next_due) WHERE status NOT IN ('closed', 'onsite_filed');
CREATE INDEX enf_case_status ON enf_case (status, unit_id);

CREATE TABLE case_officer (
    case_id     bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    officer_id  integer NOT NULL REFERENCES officer(id),
    role        text NOT NULL DEFAULT 'handler' CHECK (role IN ('handler', 'assistant')),
    PRIMARY KEY (case_id, officer_id)
);
CREATE INDEX case_officer_officer ON case_officer (officer_id);

-- the history of every case: append-only, like the audit log (全过程记录)
CREATE TABLE case_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES enf_case(id),
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,
    action       text NOT NULL,
    from_status  text,
    to_status    text,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_event_case ON case_event (case_id, id);
CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON case_event
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();
-- an empty history may be truncated (a fresh organisation re-seeded); a kept one never
CREATE FUNCTION lawgrid_case_event_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM case_event) THEN
        RAISE EXCEPTION 'case_event is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON case_event
    FOR EACH STATEMENT EXECUTE FUNCTION lawgrid_case_event_truncate();

CREATE TABLE case_pause (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('suspension', 'hearing', 'public_notice', 'testing',
                                              'identification', 'refund_order')),
    started_on  date NOT NULL,
    ended_on    date CHECK (ended_on >= started_on),
    approved_by text NOT NULL
);
CREATE UNIQUE INDEX case_pause_open ON case_pause (case_id) WHERE ended_on IS NULL;

CREATE TABLE case_extension (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('decide', 'review', 'verify')),
    days         integer NOT NULL CHECK (days BETWEEN 1 AND 365),
    by_panel     boolean NOT NULL DEFAULT false,
    reason       text NOT NULL CHECK (length(reason) > 0),
    approved_by  text NOT NULL,
    approved_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE case_review (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id                 bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    kind                    text NOT NULL CHECK (kind IN ('legal', 'case')),
    submitted_on            date NOT NULL,
    due                     date NOT NULL,         -- 10 WD (market 第五十五条)
    facts_version           integer NOT NULL,      -- what was reviewed: a later change needs a new review
    reviewer_user           integer REFERENCES app_user(id),
    reviewer_qualification  text,
    checks                  jsonb,                 -- the seven points of market 第五十三条
    opinion                 text CHECK (opinion IN ('agree', 'correct', 'supplement', 'other')),
    reasons                 text,
    decided_at              timestamptz,
    CHECK ((opinion IS NULL) = (decided_at IS NULL)),
    CHECK (opinion IS NULL OR reviewer_user IS NOT NULL)
);
CREATE UNIQUE INDEX case_review_open ON case_review (case_id) WHERE decided_at IS NULL;
CREATE INDEX case_review_reviewer ON case_review (reviewer_user, kind) WHERE opinion IS NOT NULL;

CREATE TABLE case_notice (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    proposed       jsonb NOT NULL,
    hearing_right  boolean NOT NULL,
    served_on      date NOT NULL,
    response_due   date NOT NULL,           -- 5 WD (market 第五十七条)
    waived_on      date,                    -- the party waived statements and hearing in writing
    facts_version  integer NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notice_case ON case_notice (case_id, id);

CREATE TABLE case_statement (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    received_on     date NOT NULL,
    form            text NOT NULL CHECK (form IN ('oral', 'written')),
    content         text NOT NULL,
    recheck_result  text NOT NULL CHECK (recheck_result IN ('adopted', 'partly', 'rejected')),
    reasons         text NOT NULL,
    created_by      text NOT NULL
);

CREATE TABLE case_hearing (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id           bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    requested_on      date NOT NULL,
    host_user         integer REFERENCES app_user(id),
    notice_served_on  date,
    hearing_on        date,
    public            boolean NOT NULL DEFAULT true,
    held_on           date,
    outcome           text CHECK (outcome IN ('held', 'terminated')),
    transcript        text,
    report            text,
    report_on         date,
    CHECK (hearing_on IS NULL OR hearing_on >= notice_served_on)
);
CREATE UNIQUE INDEX case_hearing_one ON case_hearing (case_id);

CREATE TABLE case_panel (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    held_on       date NOT NULL,
    participants  text[] NOT NULL CHECK (cardinality(participants) >= 2),
    minutes       text NOT NULL,
    conclusion    text NOT NULL,
    facts_version integer NOT NULL,
    created_by    text NOT NULL
);

CREATE TABLE case_decision (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        bigint NOT NULL UNIQUE REFERENCES enf_case(id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('penalty', 'no_penalty_minor', 'no_penalty_not_established',
                                                 'transfer', 'transfer_judicial')),
    decision_no    text NOT NULL UNIQUE,
    decided_on     date NOT NULL,
    signed_by      text NOT NULL,
    penalty        jsonb,
    statements_adopted text,
    education      text,                   -- 不予处罚 is always accompanied by 教育 (行政处罚法 第三十三条)
    facts_version  integer NOT NULL,
    CHECK (kind <> 'penalty' OR penalty IS NOT NULL),
    CHECK (kind <> 'no_penalty_minor' OR length(education) > 0)
);

CREATE TABLE case_service (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES enf_case(id) ON DELETE CASCADE,
    document    text NOT NULL CHECK (document IN ('notice', 'decision')),
    method      text NOT NULL CHECK (method IN ('direct', 'left', 'electronic', 'post', 'entrusted',
                                                'forwarded', 'public_notice')),
    served_on   date NOT NULL,
    receiver    text,
    witness     text,
    address_confirmed boolean NOT NULL DEFAULT false,
    CHECK (method <> 'electronic' OR address_confirmed),  -- 送达地址确认书 (market 第八十三条)
    CHECK (method <> 'left' OR witness IS NOT NULL)
);

-- the sweep's output: one row per deadline at amber, red or breach (of a case or a source)
CREATE TABLE case_warning (
    subject    text NOT NULL,                 -- 'case:ID' or 'source:ID'
    clock      text NOT NULL,
    case_id    bigint REFERENCES enf_case(id) ON DELETE CASCADE,
    source_id  bigint REFERENCES case_source(id) ON DELETE CASCADE,
    due        date NOT NULL,
    level      text NOT NULL CHECK (level IN ('amber', 'red', 'breach')),
    unit_id    integer,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, clock)
);
CREATE INDEX case_warning_case ON case_warning (case_id);
CREATE INDEX case_warning_source ON case_warning (source_id);
CREATE INDEX case_warning_unit ON case_warning (unit_id, level);

-- Gates ------------------------------------------------------------------------------------

-- a crew for a case: two or more officers of the unit, certified on the day, none recused
CREATE FUNCTION lawgrid_crew_gates(p_case bigint, p_day date) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN (SELECT count(*) FROM case_officer WHERE case_id = p_case AND role = 'handler') < 2
             THEN 'two_officers' END,
        CASE WHEN EXISTS (SELECT 1 FROM case_officer co JOIN officer o ON o.id = co.officer_id
                          WHERE co.case_id = p_case AND NOT (p_day BETWEEN o.cert_valid_from AND o.cert_valid_to))
             THEN 'certificate_valid' END,
        CASE WHEN EXISTS (SELECT 1 FROM case_officer co JOIN officer o ON o.id = co.officer_id
                          JOIN enf_case c ON c.id = co.case_id
                          WHERE co.case_id = p_case AND o.unit_id <> c.unit_id)
             THEN 'officer_unit' END,
        CASE WHEN EXISTS (SELECT 1 FROM case_officer co JOIN enf_case c ON c.id = co.case_id
                          JOIN recusal r ON r.officer_id = co.officer_id AND r.target_id = c.target_id
                          WHERE co.case_id = p_case)
             THEN 'recused' END
    ], NULL)
$$;

-- who may review: never a handler; a first legal review needs the 法律职业资格
CREATE FUNCTION lawgrid_review_gates(p_case bigint, p_user integer, p_kind text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN EXISTS (SELECT 1 FROM app_user u JOIN case_officer co ON co.officer_id = u.officer_id
                          WHERE u.id = p_user AND co.case_id = p_case)
             THEN 'reviewer_not_handler' END,
        CASE WHEN p_kind = 'legal'
              AND (SELECT legal_qualification_no FROM app_user WHERE id = p_user) IS NULL
              AND NOT EXISTS (SELECT 1 FROM case_review r WHERE r.reviewer_user = p_user AND r.kind = 'legal'
                              AND r.opinion IS NOT NULL AND r.case_id <> p_case)
             THEN 'first_legal_review_qualification' END
    ], NULL)
$$;

-- before any decision (行政处罚法 第五十七—六十五条; market 第四十九—六十四条)
CREATE FUNCTION lawgrid_decision_gates(p_case bigint, p_kind text, p_penalty jsonb, p_day date) RETURNS text[]
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

CREATE FUNCTION lawgrid_check_decision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE broken text[] := lawgrid_decision_gates(NEW.case_id, NEW.kind, NEW.penalty, NEW.decided_on);
BEGIN
    IF cardinality(broken) > 0 THEN
        PERFORM lawgrid_refuse(array_to_string(broken, ','), 'the decision breaks the gates of the procedure');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_decision_gates BEFORE INSERT OR UPDATE ON case_decision
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_decision();

CREATE FUNCTION lawgrid_check_review() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE broken text[];
BEGIN
    IF NEW.reviewer_user IS NOT NULL THEN
        broken := lawgrid_review_gates(NEW.case_id, NEW.reviewer_user, NEW.kind);
        IF cardinality(broken) > 0 THEN
            PERFORM lawgrid_refuse(array_to_string(broken, ','), 'this reviewer may not review this case');
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_review_gates BEFORE INSERT OR UPDATE ON case_review
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_review();

-- a hearing is chaired by someone who did not investigate (行政处罚法 第六十四条)
CREATE FUNCTION lawgrid_check_hearing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.host_user IS NOT NULL AND EXISTS (
        SELECT 1 FROM app_user u JOIN case_officer co ON co.officer_id = u.officer_id
        WHERE u.id = NEW.host_user AND co.case_id = NEW.case_id) THEN
        PERFORM lawgrid_refuse('host_not_handler', 'a handler of the case may not chair its hearing');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_hearing_host BEFORE INSERT OR UPDATE ON case_hearing
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_hearing();

-- the crew holds at commit: officers may be added in any order inside the filing transaction
CREATE FUNCTION lawgrid_check_crew() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE broken text[]; cid bigint; d date;
BEGIN
    IF TG_TABLE_NAME = 'enf_case' THEN cid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN cid := OLD.case_id;
    ELSE cid := NEW.case_id;
    END IF;
    SELECT filed_on INTO d FROM enf_case WHERE id = cid;
    IF d IS NULL THEN RETURN NULL; END IF;  -- the case itself is gone
    broken := lawgrid_crew_gates(cid, d);
    IF cardinality(broken) > 0 THEN
        PERFORM lawgrid_refuse(array_to_string(broken, ','), 'the case officers break the crew rules');
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER enf_case_crew AFTER INSERT ON enf_case DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION lawgrid_check_crew();
CREATE CONSTRAINT TRIGGER case_officer_crew AFTER INSERT OR UPDATE OR DELETE ON case_officer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lawgrid_check_crew();
"""

DOWNGRADE = r"""
DROP TRIGGER inspection_violation_source ON inspection;
DROP TABLE case_warning, case_service, case_decision, case_panel, case_hearing, case_statement, case_notice,
    case_review, case_extension, case_pause, case_event, case_officer, enf_case, doc_counter, case_source,
    work_calendar CASCADE;
DROP FUNCTION lawgrid_check_crew(), lawgrid_check_hearing(), lawgrid_check_review(), lawgrid_check_decision(),
    lawgrid_decision_gates(bigint, text, jsonb, date), lawgrid_review_gates(bigint, integer, text),
    lawgrid_crew_gates(bigint, date), lawgrid_violation_source(), lawgrid_cd_after(date, integer),
    lawgrid_wd_after(date, integer), lawgrid_calendar_renumber(), lawgrid_case_event_truncate(), lawgrid_append_only(),
    lawgrid_refuse(text, text);
ALTER TABLE power_item DROP COLUMN legal_review;
ALTER TABLE app_user DROP CONSTRAINT app_user_officer_linked;
ALTER TABLE app_user DROP COLUMN legal_qualification_no, DROP COLUMN officer_id;
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN ('admin', 'operator', 'dispatcher',
    'leader', 'supervisor', 'auditor'));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
