"""The calendar's use cases: from 1 November the board says next year's schedule is missing, and
only an administrator enters a schedule; its bad lines are named while the good ones load."""

import datetime as dt

import pytest

from geo.access.accounts import Scope
from geo.cases import workdays
from geo.infra.errors import Forbidden
from services import calendar as calendar_uses
from services.context import within

ADMIN = Scope(0, "t-admin", "admin", None)
OFFICER = Scope(0, "t-officer", "officer", frozenset({1}), officer_id=1)


def test_from_the_first_of_november_next_years_missing_schedule_is_said(session):
    last = workdays.official_range(session)[1]
    ctx = within(session)
    assert calendar_uses.status(ctx, ADMIN, today=dt.date(last.year, 10, 31))["next_year_missing"] is False
    november = calendar_uses.status(ctx, ADMIN, today=dt.date(last.year, 11, 1))
    assert november["next_year_missing"] is True and november["next_year"] == last.year + 1
    assert november["official_through"] == last.isoformat()
    assert len(november["provisional_holidays"]) == 13


def test_only_an_administrator_enters_a_schedule_and_bad_lines_are_named(session):
    last = workdays.official_range(session)[1]
    lines = [
        f"{last + dt.timedelta(days=i)},{'workday' if (last + dt.timedelta(days=i)).weekday() < 5 else 'holiday'}"
        for i in range(1, 11)
    ]
    data = "day,kind\n" + "\n".join(lines) + "\n2099-13-01,holiday\n"
    with pytest.raises(Forbidden):
        calendar_uses.import_csv(within(session), OFFICER, data, "test")
    result = calendar_uses.import_csv(within(session), ADMIN, data, "国办发明电")
    assert result["updated"] == 10 and len(result["rejected"]) == 1 and result["rejected"][0].startswith("line 12")
    assert result["official_through"] == (last + dt.timedelta(days=10)).isoformat()
