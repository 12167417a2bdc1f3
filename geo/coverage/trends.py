"""Coverage over time (by day, week or month) and the heat map of completed inspections."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage.counts import _fact_terms, _params, _scopes, denominators
from geo.coverage.model import CoverageError, Filter, Window
from geo.coverage.summary import _whole
from geo.places import queries

TREND_STEPS = {"day": "day", "week": "week", "month": "month"}
# The first day of a fact's step, in date arithmetic (a fifth faster over a year of facts
# than date_trunc's round trip through a timestamp).
STEP_FIRST_SQL = {
    "day": "day",
    "week": "(day - (date_part('isodow', day)::int - 1))",
    "month": "(day - (date_part('day', day)::int - 1))",
}


def trend(session: Session, window: Window, flt: Filter = Filter(), step: str = "month") -> list[dict[str, Any]]:
    """Coverage of the district (or of the one unit in the filter) per day, week or month of
    the window: distinct targets inspected in each step over the targets in scope now. The
    same previous-day trick as numerators(), with each step's first day as s."""
    if step not in TREND_STEPS:
        raise CoverageError("step must be day, week or month")
    by = _whole(flt)
    prev, _group, where = _fact_terms(by, flt)
    if by == "unit":
        where.append("unit_id = ANY(CAST(:units AS int[]))")
    first_sql = STEP_FIRST_SQL[step]
    rows = session.execute(
        text(
            f"""SELECT {first_sql} AS first, count(*) AS inspections,
                   count(*) FILTER (WHERE {prev} IS NULL
                                    OR {prev} < greatest({first_sql}, CAST(:s AS date))) AS inspected
            FROM coverage_fact WHERE day BETWEEN :s AND :e AND {" AND ".join(where)} GROUP BY 1 ORDER BY 1"""
        ),
        {**_params(window, flt), "units": sorted(flt.unit_ids or [])},
    ).all()
    dens = denominators(session, by, flt, _scopes(session, by, flt))
    targets = sum(dens.values())
    found = {r.first: r for r in rows}
    out, day = [], window.start
    while day <= window.end:
        first: dt.date = {"day": day, "week": day - dt.timedelta(days=day.weekday()), "month": day.replace(day=1)}[step]
        r = found.get(first)
        inspected = r.inspected if r else 0
        out.append(
            {
                "start": max(first, window.start).isoformat(),
                "numerator": inspected,
                "denominator": targets,
                "ratio": round(inspected / targets, 6) if targets else None,
                "inspections": r.inspections if r else 0,
            }
        )
        day = _next_step(first, step)
    return out


def recent_steps(end: dt.date, step: str, n: int) -> Window:
    """The window of the n days, weeks or months ending with the one holding `end`."""
    if step == "day":
        return Window(end - dt.timedelta(days=n - 1), end)
    if step == "week":
        return Window(end - dt.timedelta(days=end.weekday() + 7 * (n - 1)), end)
    months = end.year * 12 + end.month - 1 - (n - 1)
    return Window(dt.date(months // 12, months % 12 + 1, 1), end)


def _next_step(first: dt.date, step: str) -> dt.date:
    if step == "day":
        return first + dt.timedelta(days=1)
    if step == "week":
        return first + dt.timedelta(days=7)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def inspection_heat(
    session: Session, since: dt.date, unit_ids: frozenset[int] | None = None, cell_deg: float = 0.01
) -> dict[str, Any]:
    """Inspections completed since a day, counted at their targets on a grid of cell_deg
    squares (k: violations found), as GeoJSON cells for the heat map."""
    rows = session.execute(
        text(
            """SELECT floor(ST_X(t.geom) / :c)::int, floor(ST_Y(t.geom) / :c)::int, count(*),
                  count(*) FILTER (WHERE f.result = 'violation')
           FROM coverage_fact f JOIN target t ON t.id = f.target_id
           WHERE f.day >= :since AND (CAST(:units AS int[]) IS NULL OR f.unit_id = ANY(CAST(:units AS int[])))
           GROUP BY 1, 2"""
        ),
        {"c": cell_deg, "since": since, "units": sorted(unit_ids) if unit_ids is not None else None},
    ).all()
    return queries.grid_geojson(rows, cell_deg, "{n} / {k} ✗")
