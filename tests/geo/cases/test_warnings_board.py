"""The 预警 board for those who act on it (issue 34, item 2): the cases one by one, most severe
and nearest first, each with its case number, party and handlers; the sources grouped and
counted (never one row each); filters by unit, level and clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.cases import clocks, views
from tests.casework import file, scope, to_review, violation

pytestmark = pytest.mark.usefixtures("users")


def test_cases_come_first_with_party_and_handlers_and_sources_are_counted(session):
    late = to_review(session)  # its review is overdue once the day is past its due
    sources = [violation(session, note=f"看板测试 {i}")["id"] for i in range(6)]
    day = late["review_due"] + dt.timedelta(days=40)  # past every source's 15 working days too
    clocks.sweep(session, day, cases=[late["id"]], sources=sources)
    board = views.warnings_board(session, scope(session, "t-supervisor"), limit=5000)
    row = next(c for c in board["cases"] if c["case_id"] == late["id"])
    assert row["level"] == "breach" and row["case_no"] == late["case_no"] and row["party"] == late["party_name"]
    handlers = session.execute(
        text(
            "SELECT string_agg(o.name, '、') FROM case_officer co JOIN officer o ON o.id = co.officer_id "
            "WHERE co.case_id = :c"
        ),
        {"c": late["id"]},
    ).scalar()
    assert set(row["handlers"].split("、")) == set(handlers.split("、"))
    ranks = [views.LEVELS.index(c["level"]) for c in board["cases"]]
    assert ranks == sorted(ranks)  # breach, then red, then amber
    assert all(c["case_id"] for c in board["cases"])  # no source among the cases
    group = next(
        g for g in board["sources"] if g["kind"] == "inspection" and g["clock"] == "verify" and g["level"] == "breach"
    )
    assert group["n"] >= 6  # the six sources: one row, counted
    only_red = views.warnings_board(session, scope(session, "t-supervisor"), level="red")
    assert all(c["level"] == "red" for c in only_red["cases"] + only_red["sources"])
    only_verify = views.warnings_board(session, scope(session, "t-supervisor"), clock="verify")
    assert only_verify["cases"] == [] and all(g["clock"] == "verify" for g in only_verify["sources"])


def test_an_officer_sees_the_warnings_of_his_own_cases_only(session):
    mine = file(session)
    clocks.sweep(session, mine["filed_on"] + dt.timedelta(days=85), cases=[mine["id"]], sources=[])
    board = views.warnings_board(session, scope(session, "t-officer"), limit=5000)
    assert mine["id"] in {c["case_id"] for c in board["cases"]} and board["sources"] == []
    handled = set(
        session.execute(
            text("SELECT case_id FROM case_officer WHERE officer_id = :o"),
            {"o": scope(session, "t-officer").officer_id},
        ).scalars()
    )
    assert {c["case_id"] for c in board["cases"]} <= handled
