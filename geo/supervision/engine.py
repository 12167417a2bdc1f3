"""Indicators computed by scope and period, and the records behind each figure.

A figure is an aggregate of its indicator's records (geo.supervision.model), filtered by the
caller's units, so the list a figure opens to is the same rows, and the two never disagree.
Each figure comes with the previous period's and, by unit, the district's median."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import errors
from geo.supervision.indicators import all_indicators
from geo.supervision.model import DIMENSIONS, Indicator, Period, SupervisionError

RECORD_COLUMNS = ("kind", "id", "label", "unit_id", "body_id", "township_code", "officer_id", "on_date", "num", "den")
MAX_PAGE = 1000


def indicator(key: str) -> Indicator:
    found = all_indicators().get(key)
    if found is None:
        raise errors.NotFound(
            f"no indicator {key!r}; there are: {', '.join(all_indicators())}", rule="indicator", zh=f"没有指标“{key}”"
        )
    return found


def _params(period: Period, today: dt.date | None, units: frozenset[int] | None) -> dict[str, Any]:
    return {
        "start": period.start,
        "end": period.end,
        "today": today or dt.date.today(),
        "units": sorted(units) if units is not None else None,
    }


def _rows(ind: Indicator) -> str:
    """The indicator's records as `r`, its columns named by position (a module's own aliases
    do not matter)."""
    return f"({ind.records_sql}) AS r({', '.join(RECORD_COLUMNS)})"


SCOPED = "(CAST(:units AS int[]) IS NULL OR r.unit_id = ANY(CAST(:units AS int[])))"


def _grouped(session: Session, ind: Indicator, by: str, params: dict[str, Any]) -> dict[Any, tuple[int, int]]:
    column = DIMENSIONS[by]
    key = f"r.{column}" if column else "NULL"
    rows = session.execute(
        text(
            f"""SELECT {key} AS k, coalesce(sum(r.num), 0)::bigint, coalesce(sum(r.den), 0)::bigint
                FROM {_rows(ind)} WHERE {SCOPED} GROUP BY 1"""
        ),
        params,
    ).all()
    return {k: (int(n), int(d)) for k, n, d in rows}


def figures(
    session: Session,
    keys: list[str] | None,
    period: Period,
    *,
    by: str = "district",
    units: frozenset[int] | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Each indicator's figure for the period by `by` (district, unit, body, township, officer),
    inside `units` (None: the district), with the previous period's figure and the median of
    the units' figures across the district beside it."""
    if by not in DIMENSIONS:
        raise SupervisionError(f"by must be one of {', '.join(DIMENSIONS)}", rule="dimension")
    chosen = [indicator(k) for k in keys] if keys else list(all_indicators().values())
    out = []
    for ind in chosen:
        if by not in ind.dimensions:
            raise SupervisionError(
                f"{ind.key} is not counted by {by} (only by {', '.join(ind.dimensions)})",
                rule="dimension",
                zh=f"“{ind.zh}”不按该维度统计",
            )
        now = _grouped(session, ind, by, _params(period, today, units))
        before = _grouped(session, ind, by, _params(period.previous(), today, units))
        if "unit" not in ind.dimensions:
            by_unit = {}
        elif by == "unit" and units is None:
            by_unit = now  # the same query: asked once
        else:
            by_unit = _grouped(session, ind, "unit", _params(period, today, None))
        unit_values = [v for n, d in by_unit.values() if (v := ind.value(n, d)) is not None]
        rows = []
        for k in sorted(now, key=lambda x: (x is None, x)):
            num, den = now[k]
            pnum, pden = before.get(k, (0, 0))
            rows.append(
                {
                    "key": k,
                    "num": num,
                    "den": den,
                    "value": ind.value(num, den),
                    "previous": ind.value(pnum, pden) if (pnum or pden) else None,
                }
            )
        out.append(
            {
                **describe(ind),
                "period": period.label(),
                "previous_period": period.previous().label(),
                "by": by,
                "median_of_units": round(statistics.median(unit_values), ind.digits) if unit_values else None,
                "rows": rows,
            }
        )
    return out


def describe(ind: Indicator) -> dict[str, Any]:
    return {
        "indicator": ind.key,
        "zh": ind.zh,
        "en": ind.en,
        "kind": ind.kind,
        "definition_zh": ind.definition_zh,
        "definition_en": ind.definition_en,
        "formula": ind.formula,
        "source": ind.source,
        "num_zh": ind.num_zh,
        "den_zh": ind.den_zh,
        "inference": ind.inference,
        "target": ind.target,
        "higher_is_better": ind.higher_is_better,
        "dimensions": list(ind.dimensions),
    }


def records(
    session: Session,
    key: str,
    period: Period,
    *,
    side: str = "num",
    by: str | None = None,
    value: Any = None,
    units: frozenset[int] | None = None,
    today: dt.date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> dict[str, Any]:
    """The records behind one figure: side num (counted above the line) or den (below), for one
    value of a dimension (a unit, a township, ...) or the whole scope. With the total, so a
    page shows 'n of N' and pages on."""
    ind = indicator(key)
    if side not in ("num", "den", "all"):
        raise SupervisionError("side must be num, den or all", rule="side")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise SupervisionError(f"limit must be 1 to {MAX_PAGE} and offset at least 0", rule="page")
    params = _params(period, today, units)
    where = [SCOPED]
    if side != "all":
        where.append(f"r.{side} > 0")
    if by and by != "district":
        if by not in ind.dimensions:
            raise SupervisionError(f"{ind.key} is not counted by {by}", rule="dimension")
        column = DIMENSIONS[by]
        if value is None:
            where.append(f"r.{column} IS NULL")
        elif by == "township":
            where.append(f"r.{column} = :value")
            params["value"] = str(value)
        else:  # an id: compared as a number, so the condition reaches each part's index
            try:
                params["value"] = int(value)
            except (TypeError, ValueError):
                raise SupervisionError(f"{by} must be given by its number", rule="value") from None
            where.append(f"r.{column} = :value")
    sql = f"SELECT * FROM {_rows(ind)} WHERE {' AND '.join(where)}"
    total = session.execute(text(f"SELECT count(*) FROM ({sql}) x"), params).scalar_one()
    rows = session.execute(
        text(f"{sql} ORDER BY r.on_date NULLS LAST, r.kind, r.id LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return {
        **describe(ind),
        "period": period.label(),
        "side": side,
        "total": total,
        "records": [
            {c: (v.isoformat() if isinstance(v, dt.date) else v) for c, v in zip(RECORD_COLUMNS, r, strict=True)}
            for r in rows
        ],
    }


def records_csv_rows(session: Session, key: str, period: Period, **kw: Any) -> list[list[Any]]:
    """Every record behind the figure, as rows for a CSV or XLSX export (in pages of MAX_PAGE)."""
    ind = indicator(key)
    head = [["指标", ind.zh, "期间", period.label()], list(RECORD_COLUMNS)]
    body: list[list[Any]] = []
    offset = 0
    while True:
        page = records(session, key, period, limit=MAX_PAGE, offset=offset, **kw)
        body.extend([r[c] for c in RECORD_COLUMNS] for r in page["records"])
        offset += MAX_PAGE
        if offset >= page["total"]:
            break
    return head + body


GROUP_NAMES = {
    "unit": "SELECT CAST(id AS text), name FROM enforcement_unit",
    "body": "SELECT CAST(id AS text), name FROM enforcement_body",
    "township": "SELECT code, name FROM township",
    "officer": "SELECT CAST(id AS text), name || '（' || cert_no || '）' FROM officer",
}


def group_names(session: Session, by: str) -> dict[str, str]:
    """The names of a dimension's keys (unit ids, township codes ...), by key as text."""
    sql = GROUP_NAMES.get(by)
    return {str(k): str(n) for k, n in session.execute(text(sql)).all()} if sql else {}


def trend(
    session: Session,
    key: str,
    period: Period,
    *,
    units: frozenset[int] | None = None,
    today: dt.date | None = None,
    max_months: int = 24,
) -> list[dict[str, Any]]:
    """The indicator month by month across the period (in the scope): each month's figure as
    the engine computes it for that month alone."""
    ind = indicator(key)
    out: list[dict[str, Any]] = []
    start = dt.date(period.start.year, period.start.month, 1)
    while start < period.end and len(out) < max_months:
        month = Period.parse(f"{start:%Y-%m}")
        num, den = _grouped(session, ind, "district", _params(month, today, units)).get(None, (0, 0))
        out.append({"month": month.label(), "num": num, "den": den, "value": ind.value(num, den)})
        start = month.end
    return out
