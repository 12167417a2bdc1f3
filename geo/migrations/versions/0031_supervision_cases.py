"""Supervision cases (监督案件, issue 35 item 5, 行政执法监督条例 第二十二、二十六—三十四条): a case
opened by the supervising organ on a unit, its steps (约谈, 调阅材料, 督办函, 意见书, the unit's
reply, escalation to a government 决定书 or 通报, closing), litigation of enforcement cases, and
officer measures (取消执法资格 ends the officer's certificate from its date, so he leaves every
lawful crew on every path). A dispute already in 复议 or 诉讼 cannot be supervised (第三十三条).

Revision ID: 0031
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE litigation (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     integer NOT NULL REFERENCES enforcement_unit(id),
    case_id     bigint REFERENCES enf_case(id),
    ref         text,
    filed_on    date NOT NULL,
    decided_on  date,
    outcome     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT 'import'
);
CREATE INDEX litigation_case ON litigation (case_id);
CREATE INDEX reconsideration_case ON reconsideration (case_id);

CREATE TABLE supervision_case (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no      text NOT NULL UNIQUE,
    unit_id      integer NOT NULL REFERENCES enforcement_unit(id),
    subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    lead_kind    text NOT NULL CHECK (lead_kind IN ('finding', 'file_review', 'complaint', 'hotline',
                                                    'special_plan')),
    lead_ref     text,                       -- e.g. "indicator:quota_pattern" or "case:123"
    case_id      bigint REFERENCES enf_case(id),
    status       text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'instrument_issued', 'answered', 'escalated', 'closed')),
    opened_on    date NOT NULL,
    opened_by    text NOT NULL,
    closed_on    date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    CHECK ((status = 'closed') = (closed_on IS NOT NULL))
);
CREATE INDEX supervision_case_unit ON supervision_case (unit_id, status);

-- 第三十三条: a dispute already in 复议 or 诉讼 is not supervised a second time.
CREATE FUNCTION lawgrid_supervision_not_in_litigation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.case_id IS NOT NULL AND (
        EXISTS (SELECT 1 FROM reconsideration r WHERE r.case_id = NEW.case_id
                AND coalesce(r.outcome, '') <> 'withdrawn')
        OR EXISTS (SELECT 1 FROM litigation l WHERE l.case_id = NEW.case_id)) THEN
        PERFORM lawgrid_refuse('in_review_or_litigation',
            'the matter is already in administrative reconsideration or litigation (条例 第三十三条)');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER supervision_case_not_in_litigation BEFORE INSERT OR UPDATE OF case_id ON supervision_case
    FOR EACH ROW EXECUTE FUNCTION lawgrid_supervision_not_in_litigation();

CREATE TABLE supervision_step (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    supervision_case_id bigint NOT NULL REFERENCES supervision_case(id),
    kind                text NOT NULL CHECK (kind IN ('interview', 'materials_requested', 'supervision_letter',
                                                      'opinion', 'unit_reply', 'escalation', 'circular',
                                                      'closing')),
    instrument_no       text UNIQUE,          -- 督办函 and 意见书 are numbered
    due_on              date,                 -- the unit's report is due (an instrument, a request)
    accepted            boolean,              -- a reply: the unit accepts and reports its correction
    note                text NOT NULL CHECK (length(note) BETWEEN 1 AND 4000),
    on_date             date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    CHECK (kind NOT IN ('supervision_letter', 'opinion') OR (instrument_no IS NOT NULL AND due_on IS NOT NULL)),
    CHECK ((kind = 'unit_reply') = (accepted IS NOT NULL))
);
CREATE INDEX supervision_step_case ON supervision_step (supervision_case_id, id);
CREATE TRIGGER supervision_step_append_only BEFORE UPDATE OR DELETE ON supervision_step
    FOR EACH ROW EXECUTE FUNCTION lawgrid_append_only();

CREATE TABLE officer_measure (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    officer_id          integer NOT NULL REFERENCES officer(id),
    supervision_case_id bigint REFERENCES supervision_case(id),
    kind                text NOT NULL CHECK (kind IN ('criticism', 'suspension_education', 'reassignment',
                                                      'disqualification')),
    effective_on        date NOT NULL,
    note                text NOT NULL CHECK (length(note) BETWEEN 1 AND 2000),
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL
);
CREATE INDEX officer_measure_officer ON officer_measure (officer_id);

-- 取消执法资格: the certificate ends the day before; every crew rule that asks for a valid
-- certificate on the day (dispatch, cases, the terminal) then leaves him out, on every path.
CREATE FUNCTION lawgrid_officer_disqualified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'disqualification' THEN
        UPDATE officer SET cert_valid_to = least(cert_valid_to, greatest(cert_valid_from, NEW.effective_on - 1))
        WHERE id = NEW.officer_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER officer_measure_disqualification AFTER INSERT ON officer_measure
    FOR EACH ROW EXECUTE FUNCTION lawgrid_officer_disqualified();
"""

DOWNGRADE = """
DROP TABLE officer_measure;
DROP FUNCTION lawgrid_officer_disqualified();
DROP TABLE supervision_step;
DROP TABLE supervision_case;
DROP FUNCTION lawgrid_supervision_not_in_litigation();
DROP INDEX reconsideration_case;
DROP TABLE litigation;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
