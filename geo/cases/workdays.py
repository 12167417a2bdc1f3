"""The working-day calendar (工作日) and deadline arithmetic.

Days come from the State Council's yearly holiday schedule as kept by the `chinesecalendar`
package (weekend 调休 working days included), and an administrator may override any day or
enter the next year's schedule (audited). The arithmetic is one implementation, in the
database (`lawgrid_wd_after`, `lawgrid_cd_after` of migration 0015), so the triggers and the
core agree; these functions call it. Rules (CASE-PROCEDURE.md §3; market 第八十、八十四条):
the start day is not counted, and a calendar-day period ending on a holiday ends on the next
working day.

Past the last official day the calendar degrades safely (CASE-PROCEDURE.md §3, correction):
days up to HORIZON_DAYS ahead are computed provisionally from the statutory holidays
(全国年节及纪念日放假办法, 2025: 元旦 1 day, 春节 4 (除夕 to 初三), 清明 1, 劳动节 2, 端午 1, 中秋 1,
国庆 3) and weekends, and marked provisional. The organ's own deadlines count those days as the
calendar (the early side: the schedule only ever adds bridge holidays, which move a true deadline
later); the party's windows count them on the late side (party_wd_after: the weekdays that join a
holiday to a weekend, and the week after 春节 and 国庆, are taken as rest too; an inference, I).
Loading the official schedule replaces the provisional days and recomputes every deadline that
lay past the last official day. Nothing an officer does is refused for want of next year."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from lunardate import LunarDate
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases import clocks
from geo.cases.rules import DECISION_DAYS, RESPONSE_WD
from geo.cases.rules import RULES as REASONS
from geo.infra import audit, db
from geo.infra.errors import InvalidInput
from geo.infra.timezone import today as beijing_today

PACKAGE_SOURCE = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')} (国务院办公厅节假日安排)".replace(
    "  ", " "
)
FIRST_YEAR = 2020
PROVISIONAL = "provisional: statutory holidays and weekends (全国年节及纪念日放假办法), not the State Council schedule"
HORIZON_DAYS = 3 * 366  # provisional days kept ahead: longer than any period a case can run


def package_years() -> range:
    last = max(d.year for d in chinese_calendar.holidays)
    return range(FIRST_YEAR, last + 1)


def seed(session: Session) -> int:
    """Insert the package's years that are missing, replacing provisional days (and counting again
    the deadlines that lay on them); an administrator's days are kept."""
    official_last = official_range(session)[1]
    previous = _workday_ordinals_after(session, official_last)
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
            "ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday, source = EXCLUDED.source, note = NULL, "
            "provisional = false WHERE work_calendar.provisional"
        ),
        {"d": [r["d"] for r in rows], "w": [r["w"] for r in rows], "s": [r["s"] for r in rows]},
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    if changed and official_last is not None and previous:
        recompute_deadlines(session, official_last, previous)
    return changed


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The statutory holidays of a year (全国年节及纪念日放假办法, as revised in 2025)."""
    days: dict[dt.date, str] = {dt.date(year, 1, 1): "元旦"}
    new_year = LunarDate(year, 1, 1).to_solar_date()
    for offset in range(-1, 3):  # 除夕, 正月初一至初三
        days[new_year + dt.timedelta(days=offset)] = "春节"
    for day, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10)):
        if name == "清明":
            days[day] = "清明节"
    days.update({dt.date(year, 5, 1): "劳动节", dt.date(year, 5, 2): "劳动节"})
    days[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
    days[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    days.update({dt.date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    return days


def _holidays_near(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    out: dict[dt.date, str] = {}
    for year in range(first.year - 1, last.year + 2):
        out.update(statutory_holidays(year))
    return out


def party_rest(first: dt.date, last: dt.date) -> set[dt.date]:
    """The late side for the party's windows: statutory holidays, the weekdays (at most three)
    that join one to a weekend, and the week after 春节 and 国庆, as a schedule may make them."""
    holidays = _holidays_near(first, last)
    rest = set(holidays)
    for day, name in holidays.items():
        for step in (-1, 1):
            run: list[dt.date] = []
            probe = day + dt.timedelta(days=step)
            while probe.weekday() < 5 and probe not in holidays and len(run) < 3:
                run.append(probe)
                probe += dt.timedelta(days=step)
            if probe.weekday() >= 5:
                rest.update(run)
        if name in ("春节", "国庆节"):
            rest.update(day + dt.timedelta(days=i) for i in range(1, 8))
    return rest


def provisional_day(day: dt.date, holidays: dict[dt.date, str]) -> tuple[bool, str | None]:
    """(is a working day for the organ's deadlines, the holiday's name)."""
    name = holidays.get(day)
    return day.weekday() < 5 and name is None, name


def official_range(session: Session) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the calendar that are not provisional."""
    first, last = session.execute(text("SELECT min(day), max(day) FROM work_calendar WHERE NOT provisional")).one()
    return first, last


def ensure_provisional(session: Session, through: dt.date | None = None) -> int:
    """Provisional days after the last known one through `through` (default: HORIZON_DAYS after
    today). Cheap when they are there; run at start, by the sweep, and after a schedule load."""
    through = through or beijing_today() + dt.timedelta(days=HORIZON_DAYS)
    last = known_range(session)[1]
    if last is None or through <= last:
        return 0
    days = [last + dt.timedelta(days=i) for i in range(1, (through - last).days + 1)]
    holidays = _holidays_near(days[0], days[-1])
    marks = [provisional_day(d, holidays) for d in days]
    session.execute(
        text(
            "INSERT INTO work_calendar (day, is_workday, source, note, provisional) "
            "SELECT d, w, :s, n, true FROM unnest(CAST(:d AS date[]), CAST(:w AS boolean[]), CAST(:n AS text[])) "
            "AS x(d, w, n) ON CONFLICT DO NOTHING"
        ),
        {"d": days, "w": [m[0] for m in marks], "n": [m[1] for m in marks], "s": PROVISIONAL},
    )
    return len(days)


def party_wd_after(session: Session, start: dt.date, n: int) -> dt.date:
    """The n-th working day after start for a window the party is given (the start not counted):
    official days as the schedule says, provisional ones on the late side (party_rest)."""
    if n < 1:
        raise InvalidInput("n must be at least 1")
    rows = session.execute(
        text(
            "SELECT day, is_workday, provisional FROM work_calendar WHERE day > :s AND day <= :s + :span ORDER BY day"
        ),
        {"s": start, "span": n * 3 + 40},
    ).all()
    provisional = [r.day for r in rows if r.provisional]
    rest = party_rest(provisional[0], provisional[-1]) if provisional else set()
    count = 0
    for day, is_workday, is_provisional in rows:
        if (is_workday and day not in rest) if is_provisional else is_workday:
            count += 1
            if count == n:
                found: dt.date = day
                return found
    return wd_after(session, start, n)  # past the provisional horizon: the database says why


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
    first, last = official_range(session)
    wanted = sorted({d.day for d in days})
    if first is not None and last is not None:
        after = [d for d in wanted if d > last]
        before = [d for d in wanted if d < first][::-1]
        for expected, day in zip(_walk(last, 1), after, strict=False):
            if day != expected:
                raise InvalidInput(f"{day} leaves a gap after the last official day {last}: enter every day in between")
        for expected, day in zip(_walk(first, -1), before, strict=False):
            if day != expected:
                raise InvalidInput(f"{day} leaves a gap before the first known day {first}")
    previous = _workday_ordinals_after(session, last)
    session.execute(
        text(
            "INSERT INTO work_calendar (day, is_workday, source, note) "
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:w AS boolean[]), CAST(:s AS text[]), CAST(:n AS text[])) "
            "ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday, source = EXCLUDED.source, "
            "note = EXCLUDED.note, provisional = false"
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
    if last is not None and previous:
        recompute_deadlines(session, last, previous)
    ensure_provisional(session)
    return len(days)


def _workday_ordinals_after(session: Session, day: dt.date | None) -> dict[dt.date, int]:
    """The working days after `day` (the provisional ones) with their ordinal, before a change."""
    if day is None:
        return {}
    rows = session.execute(
        text("SELECT day, ordinal FROM work_calendar WHERE day > :d AND is_workday AND provisional"), {"d": day}
    )
    return {r.day: int(r.ordinal) for r in rows}


# The organ's working-day deadlines stored on rows: recomputed by the ordinal they were counted to.
ORGAN_WD_DEADLINES = (
    ("case_source", "verify_due"),
    ("case_source", "accept_due"),
    ("case_source", "reporter_notify_due"),
    ("enf_case", "review_due"),
    ("enf_case", "hearing_host_due"),
    ("enf_case", "hearing_report_due"),
    ("enf_case", "service_due"),
    ("enf_case", "close_due"),
    ("enf_case", "file_due"),
)


def recompute_deadlines(session: Session, official_end: dt.date, previous: dict[dt.date, int]) -> dict[str, int]:
    """After the schedule replaced provisional days: every deadline stored past the old official
    end is counted again. A working-day deadline keeps its count (the same ordinal, now on the
    official days; exact for a period that started on an official day), the 90-day limit is
    computed again from filing, extensions and pauses, and the party's window from its service."""
    changed: dict[str, int] = {}
    days = list(previous)
    ordinals = [previous[d] for d in days]
    for table, column in ORGAN_WD_DEADLINES:
        result = session.execute(
            text(
                f"""UPDATE {table} t SET {column} = w.day
                    FROM unnest(CAST(:days AS date[]), CAST(:ords AS int[])) AS o(day, ordinal)
                    JOIN work_calendar w ON w.is_workday AND w.ordinal = o.ordinal
                    WHERE t.{column} = o.day AND t.{column} > :end AND w.day <> o.day"""
            ),
            {"days": days, "ords": ordinals, "end": official_end},
        )
        changed[f"{table}.{column}"] = int(getattr(result, "rowcount", 0) or 0)
    result = session.execute(
        text(
            "UPDATE enf_case SET decision_due = lawgrid_cd_after(filed_on, :days + extension_days + paused_days) "
            "WHERE decision_due > :end AND decision_due <> lawgrid_cd_after(filed_on, :days + extension_days + "
            "paused_days)"
        ),
        {"end": official_end, "days": DECISION_DAYS},
    )
    changed["enf_case.decision_due"] = int(getattr(result, "rowcount", 0) or 0)
    notices = session.execute(
        text("SELECT id, case_id, served_on, response_due FROM case_notice WHERE response_due > :end"),
        {"end": official_end},
    ).all()
    moved = 0
    for notice in notices:
        due = party_wd_after(session, notice.served_on, RESPONSE_WD)
        if due != notice.response_due:
            moved += 1
            session.execute(text("UPDATE case_notice SET response_due = :d WHERE id = :i"), {"d": due, "i": notice.id})
            session.execute(
                text("UPDATE enf_case SET response_due = :d WHERE id = :c AND response_due = :old"),
                {"d": due, "c": notice.case_id, "old": notice.response_due},
            )
    changed["case_notice.response_due"] = moved
    changed["next_due"] = clocks.refresh_next_due(session, official_end)
    return changed


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
        text(
            "SELECT day, is_workday, source, note, provisional FROM work_calendar WHERE day BETWEEN :a AND :b "
            "ORDER BY day"
        ),
        {"a": start, "b": end},
    )
    return [
        {
            "day": r.day.isoformat(),
            "workday": r.is_workday,
            "source": r.source,
            "note": r.note,
            "provisional": r.provisional,
        }
        for r in rows
    ]
