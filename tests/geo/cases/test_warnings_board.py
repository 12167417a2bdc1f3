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


def test_the_demo_settles_its_synthetic_leads_as_a_unit_would(session):
    """Sources whose 15 working days have passed are not filed on a stated ground, each dated
    the last day of its own window; recent ones stay open; another unit's head closes none."""
    from demo.cases import settle_sources
    from geo.cases import sources as case_sources
    from geo.infra.timezone import today as beijing_today

    today = beijing_today()
    old = [violation(session, note=f"演示线索 {i}")["id"] for i in range(3)]
    fresh = violation(session, note="新线索")["id"]
    session.execute(
        text("UPDATE case_source SET received_on = :d, verify_due = lawgrid_wd_after(:d, 15) WHERE id = ANY(:ids)"),
        {"d": today - dt.timedelta(days=60), "ids": old},
    )
    other_unit = session.execute(text("SELECT code FROM enforcement_unit WHERE code <> 'U001' LIMIT 1")).scalar()
    from geo.access.accounts import Scope

    stranger = Scope(
        0,
        "head-elsewhere",
        "organ_head",
        frozenset(
            session.execute(text("SELECT id FROM enforcement_unit WHERE code = :c"), {"c": other_unit}).scalars()
        ),
    )
    assert case_sources.not_file_in_bulk(session, stranger, old, "first_minor_corrected", "不属本单位") == 0
    assert settle_sources(session, today) >= 3
    rows = session.execute(
        text("SELECT id, status, outcome_on, verify_due, outcome_reason FROM case_source WHERE id = ANY(:i)"),
        {"i": [*old, fresh]},
    ).all()
    closed = {r.id: r for r in rows}
    for i in old:
        assert closed[i].status == "not_filed" and closed[i].outcome_on == closed[i].verify_due
        assert closed[i].outcome_reason.startswith("first_minor_corrected")
    assert closed[fresh].status == "registered"  # still inside its window
    assert (
        session.execute(text("SELECT 1 FROM audit_log WHERE action = 'case_source_not_file_bulk'")).first() is not None
    )
