"""Supervision cases (issue 35, item 5), through the use cases with explicit days: from a finding
to a 督办函, an overdue reply, an escalation and a closing, every step audited; a matter in 复议
or 诉讼 refused (第三十三条, in the core and in the database); 取消执法资格 removing the officer
from every lawful crew from its date; the supervised unit answers only its own cases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.access.accounts import Scope
from geo.infra.errors import Forbidden, InvalidInput, NotFound, Refused
from services import dispatch as dispatch_uses
from services import supervision
from services.context import within
from tests import casework

DAY0 = dt.date(2026, 3, 2)
ORGAN = Scope(user_id=0, username="t-oversight", role="oversight", unit_ids=None)

pytestmark = pytest.mark.usefixtures("users")


def u001(session) -> int:
    return session.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()


def test_from_a_finding_to_a_letter_an_overdue_reply_an_escalation_and_a_closing(session):
    ctx = within(session, source="test")
    head = casework.scope(session, "t-organ_head")  # U001's organ head
    case = supervision.open_case(
        ctx,
        ORGAN,
        today=DAY0,
        unit_id=u001(session),
        subject="疑似按月下达罚款指标",
        lead_kind="finding",
        lead_ref="indicator:quota_pattern",
        case_id=None,
    )
    assert case["status"] == "open" and case["case_no"].startswith("津滨监〔2026〕")
    supervision.take_step(ctx, ORGAN, case["id"], kind="interview", note="约谈执法支队负责人", today=DAY0)
    with pytest.raises(Refused) as nothing_to_escalate:
        supervision.take_step(ctx, ORGAN, case["id"], kind="escalation", note="提请", today=DAY0)
    assert nothing_to_escalate.value.rule == "escalation_not_due"
    with pytest.raises(Refused):  # an instrument names the day the unit's report is due
        supervision.take_step(ctx, ORGAN, case["id"], kind="supervision_letter", note="督办", today=DAY0)
    letter = supervision.take_step(
        ctx,
        ORGAN,
        case["id"],
        kind="supervision_letter",
        note="限期撤销罚款指标并报送整改情况",
        due_on=DAY0 + dt.timedelta(days=10),
        today=DAY0,
    )
    assert letter["status"] == "instrument_issued" and letter["reply_due"] == "2026-03-12"
    assert letter["steps"][-1]["instrument_no"].startswith("津滨监督〔2026〕")
    with pytest.raises(Refused):  # not overdue yet
        supervision.take_step(ctx, ORGAN, case["id"], kind="escalation", note="提请", today=DAY0 + dt.timedelta(5))
    late = supervision.case(ctx, ORGAN, case["id"], today=DAY0 + dt.timedelta(11))
    assert late["overdue"] and late["steps"][-1]["overdue"]
    escalated = supervision.take_step(
        ctx,
        ORGAN,
        case["id"],
        kind="escalation",
        note="逾期未报送，提请区政府作出监督决定书",
        today=DAY0 + dt.timedelta(11),
    )
    assert escalated["status"] == "escalated"
    answered = supervision.reply(
        ctx, head, case["id"], accepted=True, note="已撤销指标，附整改报告", today=DAY0 + dt.timedelta(12)
    )
    assert not answered["overdue"] and answered["steps"][-1]["kind"] == "unit_reply"
    closed = supervision.take_step(
        ctx, ORGAN, case["id"], kind="closing", note="整改到位，办结", today=DAY0 + dt.timedelta(20)
    )
    assert closed["status"] == "closed" and closed["closed_on"] == "2026-03-22"
    with pytest.raises(Refused) as after:
        supervision.take_step(ctx, ORGAN, case["id"], kind="interview", note="再约谈", today=DAY0 + dt.timedelta(21))
    assert after.value.rule == "closed"
    actions = (
        session.execute(
            text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"), {"s": f"supervision:{case['id']}"}
        )
        .scalars()
        .all()
    )
    assert actions == [
        "supervision_open",
        "supervision_interview",
        "supervision_supervision_letter",
        "supervision_escalation",
        "supervision_reply",
        "supervision_closing",
    ]


def test_only_the_organ_acts_and_a_unit_answers_only_its_own(session):
    ctx = within(session, source="test")
    other = session.execute(
        text("SELECT id FROM enforcement_unit WHERE code <> 'U001' ORDER BY id LIMIT 1")
    ).scalar_one()
    case = supervision.open_case(
        ctx, ORGAN, today=DAY0, unit_id=other, subject="推诿扯皮", lead_kind="hotline", lead_ref=None, case_id=None
    )
    supervision.take_step(
        ctx, ORGAN, case["id"], kind="opinion", note="意见书", due_on=DAY0 + dt.timedelta(7), today=DAY0
    )
    head = casework.scope(session, "t-organ_head")
    with pytest.raises(NotFound):  # another unit's case looks absent
        supervision.reply(ctx, head, case["id"], accepted=False, note="异议", today=DAY0)
    with pytest.raises(Forbidden):
        supervision.open_case(
            ctx, head, today=DAY0, unit_id=other, subject="x", lead_kind="finding", lead_ref=None, case_id=None
        )


def test_a_matter_in_reconsideration_or_litigation_is_refused(session):
    ctx = within(session, source="test")
    case = casework.file(session)
    session.execute(
        text("INSERT INTO reconsideration (unit_id, case_id, received_on) VALUES (:u, :c, :d)"),
        {"u": case["unit_id"], "c": case["id"], "d": DAY0},
    )
    with pytest.raises(Refused) as refused:
        supervision.open_case(
            ctx,
            ORGAN,
            today=DAY0,
            unit_id=case["unit_id"],
            subject="处罚明显不当",
            lead_kind="complaint",
            lead_ref=None,
            case_id=case["id"],
        )
    assert refused.value.rule == "in_review_or_litigation" and "第三十三条" in str(refused.value)
    # the database holds it too, whoever writes
    with pytest.raises(Exception, match="in_review_or_litigation"), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO supervision_case (case_no, unit_id, subject, lead_kind, case_id, opened_on, opened_by, "
                "created_by) VALUES ('X-1', :u, 's', 'complaint', :c, :d, 'sql', 'sql')"
            ),
            {"u": case["unit_id"], "c": case["id"], "d": DAY0},
        )


def test_disqualification_removes_the_officer_from_every_lawful_crew_from_its_date(session):
    ctx = within(session, source="test")
    dispatcher = casework.scope(session, "t-dispatcher")
    target = session.execute(
        text("SELECT id FROM target WHERE 'market_regulation' = ANY(domains) ORDER BY id LIMIT 1")
    ).scalar_one()
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    task = dispatch_uses.create(ctx, dispatcher, target_id=target, domain_key="market_regulation", due_at=due)
    crew = [o["id"] for o in dispatch_uses.candidates(ctx, dispatcher, task["id"])["crews"][0]["officers"]]
    removed = crew[0]
    measure = supervision.record_measure(
        ctx,
        ORGAN,
        removed,
        kind="disqualification",
        effective_on=due.date() - dt.timedelta(days=1),
        note="取消执法资格（监督决定）",
        supervision_case_id=None,
    )
    assert measure["cert_valid_to"] == (due.date() - dt.timedelta(days=2)).isoformat()
    again = dispatch_uses.candidates(ctx, dispatcher, task["id"])
    assert removed not in [o["id"] for c in again["crews"] for o in c["officers"]]
    assert removed not in [o["id"] for o in again["eligible"]]
    with pytest.raises(Refused) as refused:
        dispatch_uses.assign_crew(ctx, dispatcher, task["id"], crew)
    assert "certificate" in refused.value.rule


def test_missing_words_are_named_not_a_database_error(session):
    ctx = within(session, source="test")
    with pytest.raises(InvalidInput) as no_subject:
        supervision.open_case(
            ctx,
            ORGAN,
            today=DAY0,
            unit_id=u001(session),
            subject="  ",
            lead_kind="hotline",
            lead_ref=None,
            case_id=None,
        )
    assert no_subject.value.rule == "subject" and "事由" in no_subject.value.text("zh")
    case = supervision.open_case(
        ctx,
        ORGAN,
        today=DAY0,
        unit_id=u001(session),
        subject="推诿扯皮",
        lead_kind="hotline",
        lead_ref=None,
        case_id=None,
    )
    with pytest.raises(InvalidInput) as no_note:
        supervision.take_step(ctx, ORGAN, case["id"], kind="interview", note="", today=DAY0)
    assert no_note.value.rule == "note"
