"""Cases through the core: a violation found becomes a case source, the ordinary procedure's
gates refuse with the rule named (in the core and again in the database, whatever the
path), the simple procedure's limits, clocks and warnings, races, and the history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.access import accounts
from geo.cases import filing, forms, machine, views, workdays
from geo.infra.errors import Conflict, Forbidden, Refused, from_database
from geo.infra.timezone import today as beijing_today
from tests.casework import ALL_CHECKS, REPORT, after_window, file, handlers, scope, step, to_notified, to_review
from tests.conftest import PASSWORD, officer_certs

pytestmark = pytest.mark.usefixtures("users")


def rules(exc_info) -> set[str]:
    return {v["rule"] for v in exc_info.value.violations}


def test_a_violation_found_on_inspection_is_a_case_source_in_the_same_transaction(session):
    from tests.casework import violation

    source = violation(session)
    today = beijing_today()
    assert source["kind"] == "inspection" and source["status"] == "registered"
    assert source["received_on"] == today
    assert source["verify_due"] == workdays.wd_after(session, today, 15)


def test_an_ordinary_case_from_filing_to_closing(session):
    case = to_notified(session)
    assert case["status"] == "notified"
    day = after_window(session, case)
    case = step(session, case, "t-organ_head", "decide", day, kind="penalty")
    assert case["status"] == "decided"
    decision = session.execute(
        text("SELECT decision_no FROM case_decision WHERE case_id = :c"), {"c": case["id"]}
    ).scalar_one()
    assert decision.startswith("津滨U001罚决〔") and decision.endswith("号")
    case = step(session, case, "t-officer", "serve", day)  # the sealed 决定书, proved by a sealed 送达回证
    assert case["status"] == "executing"  # the fine is owed: the payment issue's hook
    case = step(session, case, "t-officer", "record_performance", day, reference="银行流水 2026120100001")
    case = step(session, case, "t-organ_head", "close", day)
    assert case["status"] == "closed"
    history = [
        r.action
        for r in session.execute(
            text("SELECT action FROM case_event WHERE case_id = :c ORDER BY id"), {"c": case["id"]}
        )
    ]
    assert history == [
        "file",
        "start_investigation",
        "record_evidence",
        "close_investigation",
        "review",
        "approve",
        "notify",
        "decide",
        "serve",
        "record_performance",
        "close",
    ]
    audited = session.execute(
        text("SELECT count(*) FROM audit_log WHERE subject = :s AND action LIKE 'case_%'"), {"s": f"case:{case['id']}"}
    ).scalar_one()
    assert audited == len(history)


def test_no_decision_before_the_notice_or_inside_its_window(session):
    case = to_review(session)
    case = step(session, case, "t-case_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    with pytest.raises(Refused) as early:
        step(session, case, "t-organ_head", "decide", kind="penalty")
    assert "notice_served" in rules(early)
    case = step(session, case, "t-organ_head", "approve")
    case = step(session, case, "t-officer", "notify")
    with pytest.raises(Refused) as inside:
        step(session, case, "t-organ_head", "decide", kind="penalty")
    assert rules(inside) == {"notice_window"}
    # the party waives in writing: the decision may come at once
    case = step(session, case, "t-officer", "waive", note="当事人书面放弃陈述申辩")
    assert step(session, case, "t-organ_head", "decide", kind="penalty")["status"] == "decided"


def test_the_database_refuses_a_decision_without_review_whatever_the_path(session):
    case = file(session)
    with pytest.raises(DBAPIError) as raw:
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty, "
                    "facts_version) VALUES (:c, 'penalty', 'raw-1', current_date, 'sql', "
                    '\'{"kinds": ["fine"], "fine_yuan": 100}\', 1)'
                ),
                {"c": case["id"]},
            )
    refused = from_database(raw.value)
    assert refused is not None and {"review_passed", "notice_served"} <= {v["rule"] for v in refused.violations}


def test_a_changed_penalty_needs_a_new_review_and_a_heavier_one_a_new_notice(session):
    case = to_notified(session)
    case = step(
        session,
        case,
        "t-officer",
        "record_statement",
        form="written",
        content="申辩：价格系供货商标注",
        recheck_result="rejected",
        reasons="进货单据显示由当事人定价",
    )
    case = step(
        session, case, "t-officer", "update_facts", proposed={"kinds": ["fine"], "fine_yuan": 8000, "base_yuan": 2000}
    )
    with pytest.raises(Refused) as heavier:
        step(session, case, "t-organ_head", "decide", kind="penalty", statements_adopted="未采纳：理由见复核意见")
    # and a statement is no waiver: the window still runs (程序规定 第五十七条)
    assert rules(heavier) == {"review_passed", "not_heavier_than_notified", "notice_window"}


def test_statements_must_be_answered_in_the_decision(session):
    case = to_notified(session)
    case = step(
        session,
        case,
        "t-officer",
        "record_statement",
        form="oral",
        content="请求从轻",
        recheck_result="partly",
        reasons="主动改正，予以考虑",
    )
    day = after_window(session, case)  # a statement is no waiver: the decision waits for the window
    with pytest.raises(Refused) as unanswered:
        step(session, case, "t-organ_head", "decide", day, kind="penalty")
    assert rules(unanswered) == {"statements_adoption"}
    decided = step(
        session, case, "t-organ_head", "decide", day, kind="penalty", statements_adopted="部分采纳：已按从轻处罚"
    )
    assert decided["status"] == "decided"


def test_handlers_never_review_their_own_case_in_the_core_or_the_database(session):
    cert = officer_certs(session, "U001", 3)[2]
    third = session.execute(text("SELECT id FROM officer WHERE cert_no = :c"), {"c": cert}).scalar_one()
    accounts.create_user(session, "t-handler-reviewer", PASSWORD, "case_reviewer", ["U001"], officer_cert=cert)
    case = to_review(session, officer_ids=[handlers(session)[0], third])
    with pytest.raises(Refused) as own:
        step(session, case, "t-handler-reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    assert rules(own) == {"reviewer_not_handler"}
    reviewer = scope(session, "t-handler-reviewer").user_id
    with pytest.raises(DBAPIError) as raw, session.begin_nested():
        session.execute(
            text("UPDATE case_review SET reviewer_user = :u WHERE case_id = :c"), {"u": reviewer, "c": case["id"]}
        )
    assert from_database(raw.value).rule == "reviewer_not_handler"


def test_a_first_legal_review_needs_the_legal_qualification(session):
    accounts.create_user(session, "t-new-legal", PASSWORD, "legal_reviewer", ["U001"])
    case = to_review(session, major=True)
    assert case["legal_review_required"]
    with pytest.raises(Refused) as unqualified:
        step(session, case, "t-new-legal", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    assert rules(unqualified) == {"first_legal_review_qualification"}
    with pytest.raises(Refused) as wrong_kind:
        step(session, case, "t-case_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    assert "review_kind" in rules(wrong_kind)
    with pytest.raises(Refused) as unchecked:
        step(
            session,
            case,
            "t-legal_reviewer",
            "review",
            opinion="agree",
            checks={"jurisdiction": True},
            discretion="accept",
        )
    assert rules(unchecked) == {"review_checks"}
    case = step(session, case, "t-legal_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    assert case["status"] == "awaiting_approval"


def test_a_major_case_is_decided_after_a_collective_discussion(session):
    case = to_review(session, major=True)
    case = step(session, case, "t-legal_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    case = step(session, case, "t-organ_head", "approve")
    case = step(session, case, "t-officer", "notify")
    case = step(session, case, "t-officer", "waive", note="书面放弃")
    with pytest.raises(Refused) as alone:
        step(session, case, "t-organ_head", "decide", kind="penalty")
    assert rules(alone) == {"panel_discussion"}
    case = step(
        session,
        case,
        "t-organ_head",
        "record_panel",
        participants=["局长", "副局长", "法制科长"],
        minutes="讨论记录",
        conclusion="同意处罚",
    )
    assert step(session, case, "t-organ_head", "decide", kind="penalty")["status"] == "decided"


def test_a_hearing_pauses_the_clock_is_chaired_by_a_non_investigator_and_reported_first(session):
    case = to_review(session, party={"kind": "natural", "name": "张某", "id_no": "120116199001010011"})
    case = step(session, case, "t-case_reviewer", "review", opinion="supplement", reasons="罚款数额需重新核定")
    case = step(
        session,
        case,
        "t-officer",
        "close_investigation",
        **{**REPORT, "proposed": {"kinds": ["fine"], "fine_yuan": 20000, "base_yuan": 5000}},
    )
    case = step(session, case, "t-case_reviewer", "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    case = step(session, case, "t-organ_head", "approve")
    case = step(session, case, "t-officer", "notify")
    notice = session.execute(text("SELECT hearing_right FROM case_notice WHERE case_id = :c"), {"c": case["id"]})
    assert notice.scalar_one() is True  # a natural person, 20,000 yuan ≥ 10,000
    case = step(session, case, "t-officer", "request_hearing")
    assert case["status"] == "hearing_requested"
    today = beijing_today()
    with pytest.raises(Refused) as short:
        step(
            session,
            case,
            "t-organ_head",
            "schedule_hearing",
            host="t-hearing_officer",
            notice_served_on=today.isoformat(),
            hearing_on=(today + dt.timedelta(days=3)).isoformat(),
        )
    assert rules(short) == {"hearing_notice_7wd"}
    on = workdays.wd_after(session, today, 7)
    case = step(
        session,
        case,
        "t-organ_head",
        "schedule_hearing",
        host="t-hearing_officer",
        notice_served_on=today.isoformat(),
        hearing_on=on.isoformat(),
    )
    with pytest.raises(Forbidden) as not_host:
        step(session, case, "t-officer", "hold_hearing", on, transcript="x")
    assert not_host.value.rule == "role:case.hearing"
    case = step(session, case, "t-hearing_officer", "hold_hearing", on, transcript="听证笔录（已签名）")
    later = workdays.wd_after(session, on, 1)
    case = step(session, case, "t-hearing_officer", "report_hearing", later, report="建议维持")
    assert case["status"] == "hearing_reported" and case["paused_days"] == (later - today).days
    with pytest.raises(Refused) as unreviewed:
        step(session, case, "t-organ_head", "decide", later, kind="penalty")
    # a heard case is legally reviewed after the hearing, and what went to 法制审核 to the heads' panel
    assert rules(unreviewed) == {"review_passed", "panel_discussion"}


def test_the_ninety_day_limit_and_its_one_extension(session):
    case = to_notified(session)
    case = step(session, case, "t-officer", "waive", note="书面放弃")
    late = case["decision_due"] + dt.timedelta(days=1)
    with pytest.raises(Refused) as past:
        step(session, case, "t-organ_head", "decide", late, kind="penalty")
    assert rules(past) == {"decision_time_limit"}
    with pytest.raises(Refused) as too_long:
        step(session, case, "t-organ_head", "extend", days=45, reason="鉴定")
    assert rules(too_long) == {"extension_once"}
    case = step(session, case, "t-organ_head", "extend", days=30, reason="需补充鉴定")
    with pytest.raises(Refused) as again:
        step(session, case, "t-organ_head", "extend", days=10, reason="再延")
    assert rules(again) == {"extension_once"}
    with pytest.raises(Refused) as no_panel:  # a bare flag is not a discussion (程序规定 第六十四条)
        step(session, case, "t-organ_head", "extend", days=10, reason="集体讨论决定", by_panel=True)
    assert rules(no_panel) == {"extension_panel"}
    panel = {"participants": ["局长", "副局长"], "minutes": "讨论延长办案期限", "conclusion": "同意再延长十日"}
    case = step(session, case, "t-organ_head", "record_panel", **panel)
    step(session, case, "t-organ_head", "extend", days=10, reason="集体讨论决定", by_panel=True)
    assert step(session, case, "t-organ_head", "decide", late, kind="penalty")["status"] == "decided"


def test_the_crew_rules_hold_at_filing(session):
    other = session.execute(
        text(
            "SELECT o.id FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id "
            "WHERE u.code = 'U002' ORDER BY o.id LIMIT 1"
        )
    ).scalar_one()
    with pytest.raises(Refused) as foreign:
        file(session, officer_ids=[handlers(session)[0], other])
    assert rules(foreign) == {"officer_unit"}
    target = session.execute(
        text("SELECT id FROM target WHERE kind = 'entity' AND 'market_regulation' = ANY(domains) ORDER BY id LIMIT 1")
    ).scalar_one()
    session.execute(
        text("INSERT INTO recusal VALUES (:o, :t, '亲属', 'test')"), {"o": handlers(session)[0], "t": target}
    )
    with pytest.raises(Refused) as recused:
        file(session)
    assert rules(recused) == {"recused"}
    with pytest.raises(Refused) as no_power:
        file(session, item_code="market_regulation.01")  # an inspection item, not a penalty power
    assert rules(no_power) == {"item_power_penalty"}


def test_the_simple_procedure_limits_are_inclusive(session):
    officer = scope(session, "t-officer")

    def onsite(kind: str, fine: float):
        body = {
            # a party of its own each time: one act of one party is fined once (处罚法 第二十九条)
            "party": {"kind": kind, "name": f"{'李某' if kind == 'natural' else '某商店'}{fine}"},
            "item_code": "market_regulation.04",
            "officer_ids": handlers(session),
            "facts": "当场查实",
            "penalty": {"kinds": ["fine"], "fine_yuan": fine, "base_yuan": 1000},
            "rights_told": True,
        }
        return filing.open_onsite(session, officer, machine.validate(forms.OnsiteCase, body))

    assert onsite("natural", 200)["status"] == "onsite_decided"
    assert onsite("legal", 3000)["status"] == "onsite_decided"
    for kind, fine in (("natural", 200.01), ("legal", 3001)):
        with pytest.raises(Refused) as over:
            onsite(kind, fine)
        assert rules(over) == {"simple_procedure_limits"}
    case = onsite("natural", 50)
    assert case["file_due"] == workdays.wd_after(session, beijing_today(), 7)
    filed = step(session, case, "t-supervisor", "file_onsite")
    assert filed["status"] == "onsite_filed"


def test_steps_the_caller_may_not_take_say_why(session):
    case = to_notified(session)
    view = views.case_file(session, scope(session, "t-organ_head"), case["id"])
    decide = next(a for a in view["actions"] if a["action"] == "decide")
    assert decide["allowed"] is False and [r["rule"] for r in decide["rules"]] == ["notice_window"]
    assert decide["rules"][0]["zh"].startswith("告知后五个工作日")
    officer_view = views.case_file(session, scope(session, "t-officer"), case["id"])
    assert (
        next(a for a in officer_view["actions"] if a["action"] == "decide")["rules"][0]["rule"] == "role:case.approve"
    )
    assert {d["type"] for d in view["documents"]} >= {"file", "close_investigation", "review", "notify"}


def test_a_stale_version_is_a_conflict(session):
    case = file(session)
    with pytest.raises(Conflict) as stale:
        machine.perform(
            session,
            scope(session, "t-officer"),
            case["id"],
            "start_investigation",
            {"rights_told": True},
            version=case["version"] - 1 if case["version"] > 1 else 99,
        )
    assert stale.value.rule == "stale_version"


def test_the_case_history_is_append_only(session):
    case = file(session)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE case_event SET actor = 'someone' WHERE case_id = :c"), {"c": case["id"]})
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM case_event WHERE case_id = :c"), {"c": case["id"]})
