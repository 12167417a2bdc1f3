"""The working-day calendar: the State Council's schedule (调休 included), administrators'
overrides, and deadline arithmetic checked against an independent count of the days."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from geo.cases import workdays
from geo.infra.errors import InvalidInput, Refused

KNOWN = st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2026, 9, 30))  # + 90 days stays in 2026
SLOW_DB = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def count_wd_after(start: dt.date, n: int) -> dt.date:
    """Independent: walk day by day with the package's own answer."""
    day, seen = start, 0
    while seen < n:
        day += dt.timedelta(days=1)
        seen += chinese_calendar.is_workday(day)
    return day


def count_cd_after(start: dt.date, n: int) -> dt.date:
    day = start + dt.timedelta(days=n)
    while not chinese_calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


@SLOW_DB
@given(start=KNOWN, n=st.integers(min_value=1, max_value=30))
def test_working_day_deadlines_match_a_day_by_day_count(session, start, n):
    assert workdays.wd_after(session, start, n) == count_wd_after(start, n)


@SLOW_DB
@given(start=KNOWN, n=st.sampled_from([7, 15, 30, 60, 90]))
def test_calendar_day_periods_move_off_holidays(session, start, n):
    assert workdays.cd_after(session, start, n) == count_cd_after(start, n)


def test_national_day_and_its_adjusted_weekend(session):
    # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days (调休)
    assert workdays.wd_after(session, dt.date(2025, 9, 27), 1) == dt.date(2025, 9, 28)
    assert workdays.wd_after(session, dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    assert workdays.wd_after(session, dt.date(2025, 10, 10), 1) == dt.date(2025, 10, 11)
    # 5 working days from the last day before the holiday: 9, 10, 11, 13, 14 October
    assert workdays.wd_after(session, dt.date(2025, 9, 30), 5) == dt.date(2025, 10, 14)
    # 15 days to pay from 20 September ends on 5 October, a holiday: the 9th
    assert workdays.cd_after(session, dt.date(2025, 9, 20), 15) == dt.date(2025, 10, 9)


def test_past_the_official_schedule_deadlines_are_provisional_never_refused(session):
    last = workdays.official_range(session)[1]
    due = workdays.wd_after(session, last - dt.timedelta(days=3), 10)  # runs into next year
    assert due > last
    provisional = session.execute(text("SELECT provisional FROM work_calendar WHERE day = :d"), {"d": due}).scalar()
    assert provisional is True
    year = last.year + 1
    holidays = workdays.statutory_holidays(year)
    assert dt.date(year, 1, 1) in holidays and len(holidays) == 13  # 元旦1 春节4 清明1 劳动2 端午1 中秋1 国庆3
    rows = session.execute(
        text("SELECT day FROM work_calendar WHERE day = ANY(:d) AND is_workday"), {"d": list(holidays)}
    ).all()
    assert rows == []  # no statutory holiday counts as a working day
    assert workdays.cd_after(session, last, 1) > last


def test_the_statutory_holidays_of_a_year_fall_where_the_lunar_calendar_puts_them():
    days = workdays.statutory_holidays(2027)
    spring = sorted(d for d, name in days.items() if name == "春节")
    assert spring == [dt.date(2027, 2, 5), dt.date(2027, 2, 6), dt.date(2027, 2, 7), dt.date(2027, 2, 8)]
    assert days[dt.date(2027, 4, 5)] == "清明节"
    assert days[dt.date(2027, 6, 9)] == "端午节" and days[dt.date(2027, 9, 15)] == "中秋节"


def test_the_party_window_is_counted_on_the_late_side_the_organ_deadline_on_the_early(session):
    year = workdays.official_range(session)[1].year + 1
    start = dt.date(year, 9, 28)
    organ = workdays.wd_after(session, start, 5)
    party = workdays.party_wd_after(session, start, 5)
    assert party > organ  # the week after 国庆 may be rest: the party is never cut short
    assert party.weekday() < 5 and party > dt.date(year, 10, 8)


def test_beyond_the_provisional_horizon_a_deadline_is_refused_with_its_rule(session):
    last = workdays.known_range(session)[1]
    with pytest.raises(Refused) as refused:
        workdays.wd_after(session, last - dt.timedelta(days=3), 10)
    assert refused.value.rule == "calendar_unknown"


def test_loading_the_schedule_counts_again_the_deadlines_that_lay_past_it(session):
    last = workdays.official_range(session)[1]
    source = session.execute(
        text(
            """INSERT INTO case_source (kind, unit_id, summary, received_on, verify_due, created_by)
               SELECT 'complaint', id, 'test', :r, lawgrid_wd_after(:r, 15), 'test' FROM enforcement_unit
               ORDER BY id LIMIT 1 RETURNING id, verify_due"""
        ),
        {"r": last - dt.timedelta(days=5)},
    ).one()
    assert source.verify_due > last
    # the State Council makes the first working day after the old end a holiday (调休)
    first_workday = workdays.wd_after(session, last, 1)
    days = [last + dt.timedelta(days=i) for i in range(1, 61)]
    holidays = workdays.statutory_holidays(last.year + 1)
    schedule = [workdays.Day(d, d.weekday() < 5 and d != first_workday and d not in holidays) for d in days]
    workdays.set_days(session, schedule, "t-admin", "国办发明电 schedule")
    moved = session.execute(text("SELECT verify_due FROM case_source WHERE id = :i"), {"i": source.id}).scalar()
    assert moved == workdays.wd_after(session, last - dt.timedelta(days=5), 15) and moved > source.verify_due
    official = session.execute(
        text("SELECT count(*) FROM work_calendar WHERE day = ANY(:d) AND NOT provisional"), {"d": days}
    ).scalar()
    assert official == 60


def test_an_administrator_override_moves_deadlines_and_is_audited(session):
    friday = dt.date(2026, 6, 5)
    assert workdays.wd_after(session, dt.date(2026, 6, 4), 1) == friday
    workdays.set_days(session, [workdays.Day(friday, False, "台风停工")], "t-admin", "administrator")
    assert workdays.wd_after(session, dt.date(2026, 6, 4), 1) == dt.date(2026, 6, 8)
    logged = session.execute(
        text("SELECT detail FROM audit_log WHERE action = 'calendar_set' AND actor = 't-admin' ORDER BY id DESC")
    ).scalar()
    assert logged["days"][0] == ["2026-06-05", False, "台风停工"]


def test_days_entered_for_the_next_year_join_without_a_gap(session):
    last = workdays.official_range(session)[1]
    with pytest.raises(InvalidInput, match="gap"):
        workdays.set_days(session, [workdays.Day(last + dt.timedelta(days=2), True)], "t-admin", "schedule")
    workdays.set_days(
        session,
        [workdays.Day(last + dt.timedelta(days=1), False), workdays.Day(last + dt.timedelta(days=2), True)],
        "t-admin",
        "国办发明电 schedule",
    )
    assert workdays.wd_after(session, last, 1) == last + dt.timedelta(days=2)


def test_an_import_reports_bad_lines_by_number_and_keeps_the_good():
    days, errors = workdays.parse_csv("day,kind\n2027-01-01,holiday,元旦\n2027-01-02,weekday\nnot-a-day,workday\n")
    assert [d.day for d in days] == [dt.date(2027, 1, 1)]
    assert errors[0].startswith("line 3:") and errors[1].startswith("line 4:")
