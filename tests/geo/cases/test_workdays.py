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


def test_a_deadline_past_the_known_days_is_refused_not_guessed(session):
    last = workdays.known_range(session)[1]
    with pytest.raises(Refused) as refused:
        workdays.wd_after(session, last - dt.timedelta(days=3), 10)
    assert refused.value.rule == "calendar_unknown"
    with pytest.raises(Refused):
        workdays.cd_after(session, last, 1)


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
    last = workdays.known_range(session)[1]
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
