"""The working-day calendar (工作日) and deadline arithmetic.

Days come from the State Council's yearly holiday schedule as kept by the `chinesecalendar`
package (weekend 调休 working days included), and an administrator may override any day or
enter the next year's schedule (audited). The arithmetic is one implementation, in the
database (`lawgrid_wd_after`, `lawgrid_cd_after` of migration 0015), so the triggers and the
core agree; these functions call it. Rules (CASE-PROCEDURE.md §3; market 第八十、八十四条):
the start day is not counted, a calendar-day period ending on a holiday ends on the next
working day, and a deadline past the last known day is an error, never a guess."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.rules import RULES as REASONS
from geo.infra import audit, db
from geo.infra.errors import InvalidInput

PACKAGE_SOURCE = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')} (国务院办公厅节假日安排)".replace(
    "  ", " "
)
FIRST_YEAR = 2020
PROVISIONAL = "provisional: weekends only, not the State Council schedule"


def package_years() -> range:
    last = max(d.year for d in chinese_calendar.holidays)
    return range(FIRST_YEAR, last + 1)


def seed(session: Session) -> int:
    """Insert the package's years that are missing; overrides already stored are kept."""
    rows = []
    for year in package_years():
        day = dt.date(year, 1, 1)
        while day.year == year:
            rows.append({"d": day, "w": chinese_calendar.is_workday(day), "s": PACKAGE_SOURCE})
            day += dt.timedelta(days=1)
    result = session.execute(
        text(
            "INSERT INTO work_calendar (day, is_workday, source) "
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:w AS boolean[]), CAST(:s AS text[])) "
            "ON CONFLICT (day) DO NOTHING"
        ),
        {"d": [r["d"] for r in rows], "w": [r["w"] for r in rows], "s": [r["s"] for r in rows]},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def extend_provisional(session: Session, through: dt.date, source: str = PROVISIONAL) -> int:
    """Demo data and tests only: weekends-only days after the last known one, marked as such.
    Production enters the State Council's schedule (`lawgrid calendar import`)."""
    last = known_range(session)[1]
    if last is None or through <= last:
        return 0
    days = [last + dt.timedelta(days=i) for i in range(1, (through - last).days + 1)]
    session.execute(
        text(
            "INSERT INTO work_calendar (day, is_workday, source) "
            "SELECT d, extract(isodow FROM d) < 6, :s FROM unnest(CAST(:d AS date[])) d ON CONFLICT DO NOTHING"
        ),
        {"d": days, "s": source},
    )
    return len(days)


def known_range(session: Session) -> tuple[dt.date | None, dt.date | None]:
    first, last = session.execute(text("SELECT min(day), max(day) FROM work_calendar")).one()
    return first, last


@dataclass(frozen=True)
class Day:
    day: dt.date
    is_workday: bool
    note: str | None = None


def set_days(session: Session, days: list[Day], actor: str, source: str) -> int:
    """Override or add days (the next year's schedule). Days must join the known calendar
    without a gap, so every count stays exact."""
    if not days:
        return 0
    first, last = known_range(session)
    wanted = sorted({d.day for d in days})
    if first is not None and last is not None:
        after = [d for d in wanted if d > last]
        before = [d for d in wanted if d < first][::-1]
        for expected, day in zip(_walk(last, 1), after, strict=False):
            if day != expected:
                raise InvalidInput(f"{day} leaves a gap after the last known day {last}: enter every day in between")
        for expected, day in zip(_walk(first, -1), before, strict=False):
            if day != expected:
                raise InvalidInput(f"{day} leaves a gap before the first known day {first}")
    session.execute(
        text(
            "INSERT INTO work_calendar (day, is_workday, source, note) "
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:w AS boolean[]), CAST(:s AS text[]), CAST(:n AS text[])) "
            "ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday, source = EXCLUDED.source, "
            "note = EXCLUDED.note"
        ),
        {
            "d": [d.day for d in days],
            "w": [d.is_workday for d in days],
            "s": [source] * len(days),
            "n": [d.note for d in days],
        },
    )
    audit.record(
        session,
        actor,
        "calendar_set",
        subject=f"calendar:{days[0].day}..{days[-1].day}",
        detail={"days": [[d.day.isoformat(), d.is_workday, d.note] for d in days[:400]], "source": source},
    )
    return len(days)


def _walk(day: dt.date, step: int) -> Iterator[dt.date]:
    while True:
        day += dt.timedelta(days=step)
        yield day


def parse_csv(data: str) -> tuple[list[Day], list[str]]:
    """`day,workday|holiday[,note]` per line; bad lines are reported by number, good ones kept."""
    days, errors = [], []
    for lineno, row in enumerate(csv.reader(io.StringIO(data)), start=1):
        if not row or not row[0].strip() or row[0].startswith("#") or row[0].strip().lower() == "day":
            continue
        try:
            day = dt.date.fromisoformat(row[0].strip())
            kind = row[1].strip().lower() if len(row) > 1 else ""
            if kind not in ("workday", "holiday", "工作日", "休息日"):
                raise ValueError(f"the second column must be workday or holiday, not {kind!r}")
            days.append(Day(day, kind in ("workday", "工作日"), (row[2].strip() or None) if len(row) > 2 else None))
        except (ValueError, IndexError) as exc:
            errors.append(f"line {lineno}: {exc}")
    return days, errors


def _call(session: Session, sql: str, params: dict[str, Any]) -> dt.date:
    with db.refusals(session, REASONS):
        day: dt.date = session.execute(text(sql), params).scalar_one()
    return day


def wd_after(session: Session, start: dt.date, n: int) -> dt.date:
    """The n-th working day after start (start not counted)."""
    return _call(session, "SELECT lawgrid_wd_after(:s, :n)", {"s": start, "n": n})


def cd_after(session: Session, start: dt.date, n: int) -> dt.date:
    """start + n days, moved to the next working day if that is a holiday."""
    return _call(session, "SELECT lawgrid_cd_after(:s, :n)", {"s": start, "n": n})


def days(session: Session, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    if end < start:
        raise InvalidInput("end must not be before start")
    if (end - start).days > 800:
        raise InvalidInput("ask for at most 800 days at a time")
    rows = session.execute(
        text("SELECT day, is_workday, source, note FROM work_calendar WHERE day BETWEEN :a AND :b ORDER BY day"),
        {"a": start, "b": end},
    )
    return [{"day": r.day.isoformat(), "workday": r.is_workday, "source": r.source, "note": r.note} for r in rows]
