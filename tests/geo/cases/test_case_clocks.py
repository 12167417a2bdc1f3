"""Case clocks and concurrency: warnings amber, red and breach by working days, the 90-day clock at
day 60 and 80, two reviewers racing on one case (exactly one wins), and the demo's cases near
and past their deadlines."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import accounts
from geo.cases import clocks, machine, workdays
from geo.infra.errors import Conflict
from tests.casework import ALL_CHECKS, file, kit, scope, to_review
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("users")


def test_warnings_amber_red_and_breach_by_working_days(session):
    case = to_review(session)
    due = case["review_due"]
    three_before = _wd_before(session, due, 3)
    one_before = _wd_before(session, due, 1)
    for today, expected in (
        (_wd_before(session, due, 4), None),
        (three_before, "amber"),
        (one_before, "red"),
        (due, "red"),
        (due + dt.timedelta(days=1), "breach"),
    ):
        clocks.sweep(session, today, cases=[case["id"]], sources=[])
        level = session.execute(
            text("SELECT level FROM case_warning WHERE case_id = :c AND clock = 'review'"), {"c": case["id"]}
        ).scalar()
        assert level == expected, (today, due)


def _wd_before(session, day: dt.date, n: int) -> dt.date:
    probe = day
    while True:
        probe -= dt.timedelta(days=1)
        if (
            session.execute(text("SELECT is_workday FROM work_calendar WHERE day = :d"), {"d": probe}).scalar()
            and workdays.wd_after(session, probe, n) == day
        ):
            return probe
        if (day - probe).days > 30:
            raise AssertionError("no such day")


def test_the_ninety_day_clock_warns_at_day_sixty_and_eighty(session):
    case = file(session)
    filed = case["filed_on"]
    for day, expected in ((59, None), (60, "amber"), (80, "red")):
        clocks.sweep(session, filed + dt.timedelta(days=day), cases=[case["id"]], sources=[])
        level = session.execute(
            text("SELECT level FROM case_warning WHERE case_id = :c AND clock = 'decide'"), {"c": case["id"]}
        ).scalar()
        assert level == expected, day


def test_two_reviewers_racing_on_one_case_exactly_one_wins(engine):
    with Session(engine) as s:
        case = to_review(s)
        s.commit()
    accounts_second = "t-case-reviewer-2"
    with Session(engine) as s:
        if s.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": accounts_second}).first() is None:
            accounts.create_user(s, accounts_second, PASSWORD, "case_reviewer", ["U001"])
            s.commit()
    results: list[str] = []
    barrier = threading.Barrier(2)

    def review(who: str) -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                machine.perform(
                    s,
                    scope(s, who),
                    case["id"],
                    "review",
                    {"opinion": "agree", "checks": ALL_CHECKS, "discretion": "accept"},
                    version=case["version"],
                )
                s.commit()
                results.append("won")
            except Conflict:
                s.rollback()
                results.append("conflict")

    threads = [threading.Thread(target=review, args=(w,)) for w in ("t-case_reviewer", accounts_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "won"]
    with Session(engine) as s:
        decided = s.execute(
            text("SELECT count(*) FROM case_review WHERE case_id = :c AND opinion IS NOT NULL"), {"c": case["id"]}
        ).scalar_one()
    assert decided == 1


def test_demo_cases_cover_the_states_with_clocks_near_and_past_due(session):
    from demo.cases import seed_cases

    made = seed_cases(session, kit(), 36)
    assert made["cases"] == 36 and made["sources"] >= 3
    states = set(session.execute(text("SELECT status FROM enf_case WHERE created_by LIKE 'seed-head-%'")).scalars())
    assert {"filed", "investigating", "under_review", "awaiting_approval", "notified", "decided", "closed"} <= states
    levels = set(session.execute(text("SELECT level FROM case_warning")).scalars())
    assert levels & {"red", "breach"}
