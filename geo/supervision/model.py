"""What an indicator is: its words, its formula, its legal source, and the SQL of the records
it counts. Every indicator module under `geo.supervision.indicators` defines one `INDICATOR`.

The records SQL returns one row per record, with these columns (and nothing else):

    kind text, id bigint, label text, unit_id int, body_id int, township_code text,
    officer_id int, on_date date, num int, den int

taking :start (first day, inclusive), :end (last day, exclusive) and :today. A rate's
denominator records have den = 1 and its numerator records are those of them with num = 1; a
ratio (人均执法量) counts numerator and denominator records of different kinds; a count sums
num. The engine aggregates exactly these rows, so a figure and its list cannot disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from geo.infra import errors

KINDS = ("rate", "ratio", "count")
DIMENSIONS = {
    "district": None,
    "unit": "unit_id",
    "body": "body_id",
    "township": "township_code",
    "officer": "officer_id",
}


class SupervisionError(errors.InvalidInput):
    pass


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str
    en: str
    kind: str  # rate (%), ratio (a number per person), count
    definition_zh: str
    definition_en: str
    formula: str  # in words, as the spec states it
    source: str  # the rule, with its article
    records_sql: str
    dimensions: tuple[str, ...] = ("district", "unit", "body", "township")
    num_zh: str = "计入分子"
    den_zh: str = "计入分母"
    digits: int = 2
    inference: str | None = None  # where the formula is an inference, what the page says
    target: float | None = None  # the value it must reach (法制审核率 100 %), if the rules set one
    higher_is_better: bool = True
    order: int = 100  # where it stands on the pages

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: kind must be one of {KINDS}")
        for d in self.dimensions:
            if d not in DIMENSIONS:
                raise ValueError(f"{self.key}: unknown dimension {d}")

    def value(self, num: int, den: int) -> float | None:
        if self.kind == "count":
            return float(num)
        if not den:
            return None
        v = num / den * (100 if self.kind == "rate" else 1)
        return round(v, self.digits)


@dataclass(frozen=True)
class Period:
    """[start, end): a month, a quarter, a year or a custom range of days."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise SupervisionError("the period must end after it starts", rule="period")
        if (self.end - self.start).days > 366 * 6:
            raise SupervisionError("a period covers at most six years", rule="period")

    @classmethod
    def parse(cls, text: str) -> Period:
        """2024, 2024-Q2, 2024-05, or 2024-01-01..2024-03-31 (both days included)."""
        t = (text or "").strip()
        try:
            if ".." in t:
                a, b = t.split("..", 1)
                return cls(dt.date.fromisoformat(a), dt.date.fromisoformat(b) + dt.timedelta(days=1))
            if "-Q" in t.upper():
                y, q = t.upper().split("-Q")
                q_ = int(q)
                if not 1 <= q_ <= 4:
                    raise ValueError
                start = dt.date(int(y), 3 * q_ - 2, 1)
                return cls(start, _add_months(start, 3))
            if len(t) == 7 and t[4] == "-":
                start = dt.date(int(t[:4]), int(t[5:]), 1)
                return cls(start, _add_months(start, 1))
            if len(t) == 4:
                return cls(dt.date(int(t), 1, 1), dt.date(int(t) + 1, 1, 1))
        except ValueError:
            pass
        raise SupervisionError(
            f"period {text!r}: write 2024, 2024-Q2, 2024-05 or 2024-01-01..2024-03-31",
            rule="period",
            zh=f"期间“{text}”无法识别：请写 2024、2024-Q2、2024-05 或 2024-01-01..2024-03-31",
        )

    def previous(self) -> Period:
        """The period of the same kind just before: the previous month, quarter or year, or a
        range of the same length."""
        months = _months_between(self.start, self.end)
        if months and self.start.day == 1:
            return Period(_add_months(self.start, -months), self.start)
        length = self.end - self.start
        return Period(self.start - length, self.start)

    def label(self) -> str:
        months = _months_between(self.start, self.end)
        if months == 12 and self.start.month == 1 and self.start.day == 1:
            return f"{self.start.year}"
        if months == 3 and self.start.day == 1 and self.start.month % 3 == 1:
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        if months == 1 and self.start.day == 1:
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}..{(self.end - dt.timedelta(days=1)).isoformat()}"


def _add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def _months_between(a: dt.date, b: dt.date) -> int | None:
    if a.day != 1 or b.day != 1:
        return None
    return (b.year - a.year) * 12 + b.month - a.month
