"""Coverage's groupings, window, filter and errors, shared by counts, summaries and trends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geo.infra import errors

GROUPINGS = ("unit", "body", "township", "domain", "officer", "risk", "district")
DAY_SQL = "(timezone('Asia/Shanghai', {col}))::date"


class CoverageError(errors.InvalidInput):
    """A coverage question that cannot be answered as asked (HTTP 400)."""


@dataclass(frozen=True)
class Window:
    start: dt.date  # inclusive
    end: dt.date  # inclusive

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise CoverageError("start must not be after end")
        if (self.end - self.start).days > 3660:
            raise CoverageError("a window spans at most ten years")


@dataclass(frozen=True)
class Filter:
    township: str | None = None
    domain: str | None = None
    unit_ids: frozenset[int] | None = None  # a unit-scoped viewer, or a drill-down into one unit
    risk: int | None = None


@dataclass
class Group:
    key: str
    name: str
    inspected: int = 0
    targets: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "numerator": self.inspected,
            "denominator": self.targets,
            "ratio": round(self.inspected / self.targets, 6) if self.targets else None,
        }


def parse_window(start: str | None, end: str | None, period: str | None, today: dt.date) -> Window:
    """An explicit [start, end] (ISO dates), or a period ending today: last30 (the last 30
    days), day, week, month, quarter, year. The current month by default (the API's; the
    leaders' page opens on the last 30 days)."""
    if start or end:
        try:
            s = dt.date.fromisoformat(start) if start else today.replace(day=1)
            e = dt.date.fromisoformat(end) if end else today
        except ValueError:
            raise CoverageError("start and end are ISO dates, e.g. 2026-11-01") from None
        return Window(s, e)
    period = period or "month"
    firsts = {
        "last30": today - dt.timedelta(days=29),  # the 30 days up to today: never an empty 1st of the month
        "day": today,
        "week": today - dt.timedelta(days=today.weekday()),
        "month": today.replace(day=1),
        "quarter": today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1),
        "year": today.replace(month=1, day=1),
    }
    if period not in firsts:
        raise CoverageError("period must be last30, day, week, month, quarter or year")
    return Window(firsts[period], today)
