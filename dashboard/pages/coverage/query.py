"""The 覆盖率 page's selection: period, dates, township, domain and unit as one query; the
cross-filters from clicks on the map and charts; the drill-down to a unit's officers."""

from __future__ import annotations

from dash import ctx, no_update

from dashboard import coverage_view, ids
from dashboard.auth import require
from dashboard.context import runtime as _runtime
from geo.coverage import model

PERIODS = ("last30", "day", "week", "month", "quarter", "year", "custom")
DEFAULT_PERIOD = "last30"  # on the 1st of a month 本月 is one day: an empty map
TABLES = ("unit", "body", "township", "domain", "officer", "risk")


# -- selections -----------------------------------------------------------------------------
def cross_filter(town_click, blind_click, domain_click, _clear, township, domain):
    """A click selects a township or a domain; clicking the selected one again clears it."""
    require("view")
    trigger = ctx.triggered_id
    if trigger == ids.COV_CLEAR:
        return None, None
    if trigger == ids.COV_TOWNS and town_click:
        code = (town_click.get("properties") or {}).get("code")
        return (None if code == township else code), no_update
    picked = _clicked(blind_click if trigger == ids.COV_BLIND_CHART else domain_click)
    if picked is None:
        return no_update, no_update
    if trigger == ids.COV_BLIND_CHART:
        return (None if picked == township else picked), no_update
    return no_update, (None if picked == domain else picked)


def _clicked(click) -> str | None:
    points = (click or {}).get("points") or []
    return points[0].get("customdata") if points else None


def drill(unit_click, _district, unit):
    """district → a unit (click its bar) → its officers; the district crumb goes back."""
    require("view")
    if ctx.triggered_id == ids.COV_CRUMB_DISTRICT:
        return None
    picked = _clicked(unit_click)
    if unit or picked is None:  # officers' bars do not drill further
        return no_update
    return {"id": picked[0], "name": picked[1]} if isinstance(picked, list) else {"id": picked, "name": picked}


def make_query(period, start, end, township, domain, unit, blind_days):
    """The window and filters every chart reads. A period fills in the dates; picking dates
    makes the period custom."""
    require("view")
    period_out = no_update
    if ctx.triggered_id == ids.COV_DATES:
        period = period_out = "custom"
    if period != "custom" or not (start and end):
        period = DEFAULT_PERIOD if period in ("custom", None) else period
        window = model.parse_window(None, None, period, coverage_view.today())
    else:
        try:
            window = model.parse_window(start[:10], end[:10], None, coverage_view.today())
        except model.CoverageError as exc:
            return no_update, period_out, no_update, no_update, str(exc)
    query = {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "township": township,
        "domain": domain,
        "unit": (unit or {}).get("id"),
        "unit_name": (unit or {}).get("name"),
        "blind_days": blind_days or 90,
    }
    return query, period_out, query["start"], query["end"], ""


def _read(query: dict, **changes) -> tuple[model.Window, model.Filter]:
    """The query as a window and a filter inside the caller's scope (changes drop a selection
    for the chart that shows that selection itself)."""
    scope = require("view")
    args = {**query, **changes}
    try:
        return coverage_view.window_from(args), coverage_view.filter_from(args, scope)
    except coverage_view.OutOfScope:
        return coverage_view.window_from(args), coverage_view.filter_from({**args, "unit": None}, scope)


def _session():
    return _runtime().session()
