"""The leaders' summary: inspections by result, response times, on-time share, participation,
random-plan completion and blind spots; the response-time histogram."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage.counts import _params, coverage
from geo.coverage.model import DAY_SQL, Filter, Window


def _summary_terms(window: Window, flt: Filter) -> tuple[str, dict[str, Any]]:
    units = sorted(flt.unit_ids) if flt.unit_ids is not None else None
    w = {**_params(window, flt), "units": units}
    cond = (
        "day BETWEEN :s AND :e AND (CAST(:town AS text) IS NULL OR township_code = :town) "
        "AND (CAST(:dom AS text) IS NULL OR domain_key = :dom)"
    )
    return cond, w


def _whole(flt: Filter) -> str:
    """The grouping whose one group is "everything" for this filter: one unit's scope when it
    names a single unit, else the district."""
    return "unit" if flt.unit_ids is not None and len(flt.unit_ids) == 1 else "district"


UNIT_FACT = "(CAST(:units AS int[]) IS NULL OR unit_id = ANY(CAST(:units AS int[])))"
UNIT_OFFICER = (
    "(CAST(:units AS int[]) IS NULL OR officer_id IN "
    "(SELECT id FROM officer WHERE unit_id = ANY(CAST(:units AS int[]))))"
)


def summary(session: Session, window: Window, flt: Filter = Filter(), blind_days: int = 90) -> dict[str, Any]:
    """The leaders' KPI cards for a window; for one unit (a drill-down or a unit-scoped
    viewer) the figures are that unit's."""
    cond, w = _summary_terms(window, flt)
    row = _results(session, cond, w)
    officers = _officers(session, cond, w)
    certified = _certified(session, w)
    plans = _plans(session, w)
    by = _whole(flt)
    whole = coverage(session, by, window, flt)
    today = window.end
    blind = (
        coverage(session, "risk", Window(today - dt.timedelta(days=blind_days), today), flt) if by == "district" else []
    )
    return {
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "scope": by,
        "coverage": whole[0] if whole else {"numerator": 0, "denominator": 0, "ratio": None},
        "inspections": row["inspections"],
        "results": {k: row[k] for k in ("compliant", "violation", "could_not_inspect")},
        "response_p50_min": _minutes(row["response_p50_s"]),
        "response_p90_min": _minutes(row["response_p90_s"]),
        "on_time_share": round(float(row["on_time_share"]), 4) if row["on_time_share"] is not None else None,
        "officers_active": officers["active"],
        "officers_certified": certified,
        "participation": round(officers["active"] / certified, 4) if certified else None,
        "inspections_per_officer": round(officers["officer_inspections"] / officers["active"], 2)
        if officers["active"]
        else None,
        "random_plan": {
            "plans": plans["plans"],
            "planned": plans["planned"],
            "completed": plans["done"],
            "completed_on_time": plans["on_time"],
        },
        "blind_spots": {"days": blind_days, "by_risk": {g["key"]: g["denominator"] - g["numerator"] for g in blind}},
    }


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _results(session: Session, cond: str, w: dict[str, Any]) -> Any:
    """Inspections by result, response times and the on-time share of the window's facts."""
    return (
        session.execute(
            text(
                f"""SELECT count(*) AS inspections,
                   count(*) FILTER (WHERE result = 'compliant') AS compliant,
                   count(*) FILTER (WHERE result = 'violation') AS violation,
                   count(*) FILTER (WHERE result = 'could_not_inspect') AS could_not_inspect,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s) AS response_p50_s,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s) AS response_p90_s,
                   avg(on_time::int) AS on_time_share
            FROM coverage_fact WHERE {cond} AND {UNIT_FACT}"""
            ),
            w,
        )
        .mappings()
        .one()
    )


def _officers(session: Session, cond: str, w: dict[str, Any]) -> Any:
    """Officers active in the window, and their inspections."""
    return (
        session.execute(
            text(
                f"""SELECT count(*) FILTER (WHERE prev_officer IS NULL OR prev_officer < :s) AS active,
                   count(*) AS officer_inspections
            FROM coverage_officer_fact WHERE {cond} AND {UNIT_OFFICER}"""
            ),
            w,
        )
        .mappings()
        .one()
    )


def _certified(session: Session, w: dict[str, Any]) -> int:
    # Participation divides by the officers the filter is about: certified in the window, of
    # the filter's units, whose area holds the filter's township, of a unit holding the
    # filter's domain (not by the whole district's officers).
    found: int = session.execute(
        text(
            """SELECT count(*) FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
            WHERE o.cert_valid_from <= :e AND o.cert_valid_to >= :s
              AND (CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[])))
              AND (CAST(:town AS text) IS NULL OR EXISTS (
                   SELECT 1 FROM officer_area a WHERE a.officer_id = o.id AND a.township_code = :town))
              AND (CAST(:dom AS text) IS NULL OR :dom = ANY(u.domains))"""
        ),
        w,
    ).scalar_one()
    return found


def _plans(session: Session, w: dict[str, Any]) -> Any:
    # Random plans running in the window (drawn by its end, due on or after its start), and
    # their tasks under the same filter: a plan due next week is "due" now, not 0 / 0.
    return (
        session.execute(
            text(
                f"""SELECT count(DISTINCT p.id) AS plans, count(i.id) AS planned,
                   count(i.id) FILTER (WHERE i.status = 'completed') AS done,
                   count(i.id) FILTER (WHERE i.status = 'completed' AND i.completed_at <= p.due_at) AS on_time
            FROM random_plan p
            JOIN inspection i ON i.plan_id = p.id AND i.status <> 'cancelled'
            JOIN target t ON t.id = i.target_id
            WHERE {DAY_SQL.format(col="p.created_at")} <= :e AND {DAY_SQL.format(col="p.due_at")} >= :s
              AND (CAST(:town AS text) IS NULL OR t.township_code = :town)
              AND (CAST(:dom AS text) IS NULL OR i.domain_key = :dom)
              AND (CAST(:units AS int[]) IS NULL OR i.unit_id = ANY(CAST(:units AS int[])))"""
            ),
            w,
        )
        .mappings()
        .one()
    )


RESPONSE_BINS_MIN = (15, 30, 60, 120, 240, 480, 1440)


def response_histogram(session: Session, window: Window, flt: Filter = Filter()) -> list[dict[str, Any]]:
    """Inspections by time from creation to arrival on site, in bins of minutes ("<15",
    "15-30", ... ">=1440"), with how many of each bin arrived within the due time."""
    cond, w = _summary_terms(window, flt)
    edges = ", ".join(str(b * 60) for b in RESPONSE_BINS_MIN)
    rows = dict(
        (b, (n, on))
        for b, n, on in session.execute(
            text(
                f"""SELECT width_bucket(response_s, ARRAY[{edges}]::float8[]), count(*), count(*) FILTER (WHERE on_time)
            FROM coverage_fact WHERE {cond} AND {UNIT_FACT} AND response_s IS NOT NULL GROUP BY 1"""
            ),
            w,
        )
    )
    labels = (
        [f"<{RESPONSE_BINS_MIN[0]}"]
        + [f"{a}-{b}" for a, b in itertools.pairwise(RESPONSE_BINS_MIN)]
        + [f">={RESPONSE_BINS_MIN[-1]}"]
    )
    return [
        {"minutes": label, "inspections": rows.get(i, (0, 0))[0], "on_time": rows.get(i, (0, 0))[1]}
        for i, label in enumerate(labels)
    ]
