"""What the command map's filters draw: townships coloured by the chosen measure and their
chart, the alarm and inspection heat map, a search that flies to its find, and the crews on task."""

from __future__ import annotations

import datetime as dt

import dash
import plotly.graph_objects as go
from dash import no_update

from dashboard import choropleth, coverage_view, ids
from dashboard.auth import current_scope
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.coverage import counts as coverage_counts
from geo.coverage import model, trends
from geo.places import queries, target_map
from geo.telemetry import fleet

HEAT_WINDOWS = {"24h": 1, "7d": 7, "30d": 30, "inspections-7d": 7, "inspections-30d": 30}


def heat_options(lang: str) -> list[dict]:
    return [{"label": t(f"heat.{key}", lang), "value": key} for key in HEAT_WINDOWS]


def alarm_heat(window, _alarm):
    """Alarms, or completed inspections, over the chosen window as a heat grid; alarms are
    kept current as they arrive."""
    if window not in HEAT_WINDOWS:
        return {"type": "FeatureCollection", "features": []}, {"max": 1}
    if dash.ctx.triggered_id == ids.LIVE_SOCKET and window.startswith("inspections"):
        return no_update, no_update
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=HEAT_WINDOWS[window])
    scope = current_scope()
    with _runtime().session() as session:
        if window.startswith("inspections"):
            heat = trends.inspection_heat(session, since.astimezone(coverage_view.BEIJING).date(), scope.unit_ids)
        else:
            heat = fleet.alarm_heat(session, scope, since)
    return heat, {"max": max(1, heat["max"])}


def filter_townships(towns, domains, risks, colour_by, lang, hideout):
    """Township colours, legend and chart follow the filters; coloured by target counts or by
    this month's coverage (of one selected domain or risk level, else of all)."""
    lang = lang or "zh"
    with _runtime().session() as session:
        names = queries.township_names(session)
        if colour_by == "coverage":
            window = model.parse_window(None, None, "month", coverage_view.today())
            flt = model.Filter(
                domain=domains[0] if domains and len(domains) == 1 else None,
                risk=risks[0] if risks and len(risks) == 1 else None,
                unit_ids=current_scope().unit_ids,
            )
            values = {g["key"]: g["ratio"] for g in coverage_counts.coverage(session, "township", window, flt)}
        else:
            values = target_map.township_counts(
                session, target_map.TargetFilter(domains=domains or [], risks=risks or [])
            )
    shown = [code for code in names if not towns or code in towns]
    rows = [{"name": names[code], "code": code, "value": values.get(code) or 0} for code in shown]
    if colour_by == "coverage":
        breaks, colors = choropleth.RATIO_BREAKS, choropleth.RATIO_COLORS
        legend_children = choropleth.legend(t("overview.colour.coverage", lang), breaks, colors, 1, percent=True)
    else:
        breaks, colors = choropleth.breaks_for([r["value"] for r in rows]), choropleth.COUNT_COLORS
        legend_children = choropleth.legend(
            t("overview.targets", lang), breaks, colors, max([r["value"] for r in rows] or [0])
        )
    hideout = {
        **(hideout or {}),
        "breaks": breaks,
        "colors": colors,
        "counts": {code: values.get(code) or 0 for code in shown},
    }
    return hideout, legend_children, township_chart(rows, lang, percent=colour_by == "coverage")


def fly_to_search(q, towns, domains, risks):
    """A search moves the map to what it found."""
    if not q or not q.strip():
        return no_update
    flt = target_map.TargetFilter(townships=towns or [], domains=domains or [], risks=risks or [], q=q)
    with _runtime().session() as session:
        extent = target_map.search_extent(session, flt)
    if extent is None:
        return no_update
    w, s, e, n = extent
    if e - w < 0.002 and n - s < 0.002:
        return {"center": [(s + n) / 2, (w + e) / 2], "zoom": 17, "transition": "flyTo"}
    return {"bounds": [[s, w], [n, e]], "transition": "flyToBounds"}


def devices_on_task(_event):
    """A task changed: which crews' devices are now on a task (drawn in the on-task colour)."""
    with _runtime().session() as session:
        return fleet.devices_on_task(session, current_scope())


def live_rows(devices: list[dict]) -> list[list]:
    """The devices' last known positions, as the rows the socket pushes."""
    return [
        [d["id"], d["lat"], d["lon"], d["state"], d["recording"], "sos" in (d["alarms"] or []), d["fix_time"]]
        for d in devices
        if d["lat"] is not None
    ]


def township_chart(townships_or_rows, lang: str, percent: bool = False) -> go.Figure:
    """Townships as sorted bars: target counts, or coverage in percent."""
    rows = townships_or_rows
    if isinstance(rows, dict):
        rows = [{"name": f["properties"]["name"], "value": f["properties"]["targets"]} for f in rows["features"]]
    rows = sorted(rows, key=lambda r: r["value"])
    scale = 100 if percent else 1
    figure = go.Figure(
        go.Bar(
            x=[r["value"] * scale for r in rows],
            y=[r["name"] for r in rows],
            orientation="h",
            marker_color=[choropleth.ratio_colour(r["value"]) for r in rows] if percent else "#fd8d3c",
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>" if percent else "%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(
        title=t("overview.chart_coverage" if percent else "overview.chart", lang),
        margin=dict(l=10, r=10, t=40, b=10),
        paper_bgcolor="#13243d",
        plot_bgcolor="#13243d",
        font=dict(color="#e6edf6", size=11),
        xaxis=dict(title="%" if percent else t("overview.targets", lang), gridcolor="#24406a"),
        yaxis=dict(automargin=True),
    )
    return figure
