"""The party's window and the organ's limits as the rules hold them: a statement keeps the hearing
right and only a full waiver opens the decision early, an expired limit is not revived, and in
December without next year's schedule a violation still makes a source and a case is filed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.cases import workdays
from geo.infra.errors import Refused
from geo.infra.timezone import BEIJING
from tests.casework import ALL_CHECKS, REPORT, file, step, to_notified
from tests.geo.cases.test_cases import rules

pytestmark = pytest.mark.usefixtures("users")


def test_an_expired_limit_is_not_revived_by_an_extension(session):
    case = to_notified(session)
    late = case["decision_due"] + dt.timedelta(days=3)
    with pytest.raises(Refused) as expired:
        step(session, case, "t-organ_head", "extend", late, days=30, reason="期限已过才申请")
    assert rules(expired) == {"extension_after_limit"}
    with pytest.raises(DBAPIError, match="extension_after_limit"):  # the database holds it too
        session.execute(
            text(
                "INSERT INTO case_extension (case_id, kind, days, reason, approved_by, granted_on) "
                "VALUES (:c, 'decide', 30, 'by hand', 'sql', :d)"
            ),
            {"c": case["id"], "d": late},
        )


def test_a_statement_keeps_the_hearing_right_and_only_a_full_waiver_opens_the_decision(session):
    # a 150,000 yuan fine on a company: a hearing right (听证办法 第五条: 100,000)
    case = file(session)
    case = step(session, case, "t-officer", "start_investigation", rights_told=True)
    case = step(session, case, "t-officer", "record_evidence", kind="书证", description="销售记录")
    heavy = {**REPORT, "proposed": {"kinds": ["fine"], "fine_yuan": 150000, "base_yuan": 40000}}
    case = step(session, case, "t-officer", "close_investigation", **heavy)
    reviewer = "t-legal_reviewer" if case["legal_review_required"] else "t-case_reviewer"
    case = step(session, case, reviewer, "review", opinion="agree", checks=ALL_CHECKS, discretion="accept")
    case = step(session, case, "t-organ_head", "approve")
    case = step(session, case, "t-officer", "notify")
    notice = session.execute(
        text("SELECT hearing_right, hearing_basis FROM case_notice WHERE case_id = :c"), {"c": case["id"]}
    ).one()
    assert notice.hearing_right and notice.hearing_basis == ["fine"]
    statement = {"form": "written", "content": "申辩", "recheck_result": "rejected", "reasons": "证据充分"}
    case = step(session, case, "t-officer", "record_statement", **statement)
    case = step(session, case, "t-officer", "waive", note="放弃陈述申辩")  # not the hearing
    with pytest.raises(Refused) as early:
        step(session, case, "t-organ_head", "decide", kind="penalty", statements_adopted="未采纳")
    assert "notice_window" in rules(early)
    case = step(session, case, "t-officer", "request_hearing")  # after a statement, inside the window
    assert case["status"] == "hearing_requested"


def test_in_december_without_next_years_schedule_a_violation_is_a_source_and_a_case_is_filed(session):
    """December of the last year the State Council has published: the 15-working-day clock of a
    violation found and the 90-day limit of a case filed both run into next year, on provisional
    days, and nothing is refused (on 3030959 both failed with calendar_unknown)."""
    last = workdays.official_range(session)[1]
    december = last - dt.timedelta(days=20)
    unit, target = session.execute(
        text(
            "SELECT u.id, t.id FROM enforcement_unit u, target t WHERE u.code = 'U001' AND t.kind = 'entity' "
            "AND 'market_regulation' = ANY(t.domains) ORDER BY t.id LIMIT 1"
        )
    ).one()
    inspection = session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, status, unit_id, created_by, on_site_at) "
            "VALUES (:t, 'market_regulation', 'api', :at, 'on_site', :u, 'test', :at) RETURNING id"
        ),
        {"t": target, "u": unit, "at": dt.datetime.combine(december, dt.time(9), BEIJING)},
    ).scalar_one()
    session.execute(
        text("UPDATE inspection SET status = 'completed', result = 'violation', completed_at = :at WHERE id = :i"),
        {"i": inspection, "at": dt.datetime.combine(december, dt.time(11), BEIJING)},
    )
    source = session.execute(
        text(
            "SELECT s.received_on, s.verify_due, w.provisional FROM case_source s "
            "JOIN work_calendar w ON w.day = s.verify_due WHERE s.inspection_id = :i"
        ),
        {"i": inspection},
    ).one()
    assert source.received_on == december and source.verify_due > last and source.provisional
    case = file(session, today=december)
    due = case["decision_due"]
    due = dt.date.fromisoformat(due) if isinstance(due, str) else due
    assert due > last
    provisional = session.execute(text("SELECT provisional FROM work_calendar WHERE day = :d"), {"d": due}).scalar()
    assert provisional is True
