"""The 覆盖率 page's figures, one callback each: KPI cards, the township map, coverage by unit,
the trend, by domain, blind spots, response times and the table with its exports."""

from __future__ import annotations

import datetime as dt
from html import escape
from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import html, no_update
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format, Group

from dashboard import choropleth, coverage_view, ids
from dashboard.i18n import t
from dashboard.pages.coverage.query import TABLES, _read, _session
from geo.coverage import counts, model, summary, trends
from geo.places import queries

RISK_COLORS = {"1": "#9ecae1", "2": "#fdd0a2", "3": "#fd8d3c", "4": "#d62728"}
TREND_LENGTH = {"day": 30, "week": 12, "month": 12}  # steps shown, ending with the window's last day
DARK = dict(
    paper_bgcolor="#13243d",
    plot_bgcolor="#13243d",
    font=dict(color="#e6edf6", size=11),
    margin=dict(l=10, r=10, t=36, b=10),
)


# -- KPI cards ------------------------------------------------------------------------------
def kpi_cards(query, lang):
    if not query:
        return no_update
    window, flt = _read(query)
    with _session() as session:
        k = summary.summary(session, window, flt, int(query.get("blind_days") or 90))
    cov, results, plan = k["coverage"], k["results"], k["random_plan"]
    blind = k["blind_spots"]["by_risk"]
    cards = [
        (
            ids.KPI_COVERAGE,
            _pct(cov["ratio"]),
            t(_coverage_label(k["scope"], flt), lang),
            f"{cov['numerator']:,} / {cov['denominator']:,}",
        ),
        (
            ids.KPI_INSPECTIONS,
            f"{k['inspections']:,}",
            t("cov.kpi.inspections", lang),
            t("cov.kpi.results", lang).format(**results),
        ),
        (
            ids.KPI_RESPONSE,
            _num(k["response_p50_min"]),
            t("cov.kpi.response", lang),
            f"P90 {_num(k['response_p90_min'])} · {t('cov.kpi.on_time', lang)} {_pct(k['on_time_share'])}",
        ),
        (
            ids.KPI_PARTICIPATION,
            _pct(k["participation"]),
            t("cov.kpi.participation", lang),
            f"{k['officers_active']:,} / {k['officers_certified']:,} · "
            f"{t('cov.kpi.per_officer', lang)} {_num(k['inspections_per_officer'])}",
        ),
        (
            ids.KPI_RANDOM,
            f"{plan['completed']:,} / {plan['planned']:,}",
            t("cov.kpi.random", lang),
            t("cov.kpi.random_detail", lang).format(
                plans=plan["plans"],
                pct=_pct(plan["completed"] / plan["planned"]) if plan["planned"] else "—",
                on_time=plan["completed_on_time"],
            ),
        ),
    ]
    if blind:
        cards.append(
            (
                ids.KPI_BLIND,
                f"{sum(blind.values()):,}",
                t("cov.kpi.blind", lang).format(n=k["blind_spots"]["days"]),
                " · ".join(f"{t(f'risk.{r}', lang)} {blind.get(str(r), 0):,}" for r in (4, 3, 2, 1)),
            )
        )
    return [
        html.Div(
            className="lg-card",
            id=card_id,
            children=[
                html.Div(className="value", children=value),
                html.Div(className="label", children=label),
                html.Div(className="lg-note", children=detail),
            ],
        )
        for card_id, value, label, detail in cards
    ]


def _coverage_label(scope: str, flt: model.Filter) -> str:
    if scope == "unit":
        return "cov.kpi.coverage_unit"
    return "cov.kpi.coverage_filtered" if flt.township or flt.domain else "cov.kpi.coverage"


def _column(column: str, lang: str) -> dict:
    spec: dict[str, object] = {"name": t(f"cov.col.{column}", lang), "id": column}
    if column in ("numerator", "denominator"):
        spec |= {"type": "numeric", "format": Format(group=Group.yes)}
    elif column == "ratio":
        spec |= {"type": "numeric", "format": FormatTemplate.percentage(1)}
    return spec


def _pct(ratio) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _num(value) -> str:
    return "—" if value is None else f"{value:,}"


# -- the map --------------------------------------------------------------------------------
def township_map(query, mode, risk, lang):
    """Townships coloured by coverage, or by blind spots (targets of the chosen risk with no
    inspection in the last N days); the selected township is outlined, not filtered away."""
    if not query:
        return no_update, no_update, no_update
    if mode == "blind":
        end = dt.date.fromisoformat(query["end"])
        query = {
            **query,
            "start": (end - dt.timedelta(days=int(query["blind_days"]))).isoformat(),
            "risk": None if risk == "all" else risk,
        }
    window, flt = _read(query, township=None)
    with _session() as session:
        groups = {g["key"]: g for g in counts.coverage(session, "township", window, flt)}
        towns = queries.townships_geojson(session, simplify_m=30)
    values = {}
    for feature in towns["features"]:
        p = feature["properties"]
        g = groups.get(p["code"], {"numerator": 0, "denominator": 0, "ratio": None})
        if mode == "blind":
            values[p["code"]] = g["denominator"] - g["numerator"]
            p["tooltip"] = f"{escape(p['name'])}<br>{t('cov.map.blind', lang)}: {values[p['code']]:,}"
        else:
            values[p["code"]] = g["ratio"]
            p["tooltip"] = (
                f"{escape(p['name'])}<br>{t('cov.map.coverage', lang)}: {_pct(g['ratio'])}"
                f" ({g['numerator']:,} / {g['denominator']:,})"
            )
    if mode == "blind":
        breaks, colors = choropleth.breaks_for(list(values.values())), choropleth.BLIND_COLORS
    else:
        breaks, colors = choropleth.RATIO_BREAKS, choropleth.RATIO_COLORS
    hideout = {"values": values, "breaks": breaks, "colors": colors, "selected": query.get("township"), "mode": mode}
    top = max([v for v in values.values() if v is not None] or [0])
    return (
        towns,
        hideout,
        choropleth.legend(t("cov.map." + mode, lang), breaks, colors, top, percent=mode == "coverage"),
    )


# -- charts ---------------------------------------------------------------------------------
def unit_chart(query, lang):
    """Coverage by unit, sorted; after a drill-down, by the unit's officers."""
    if not query:
        return no_update, no_update
    window, flt = _read(query)
    by = "officer" if query.get("unit") else "unit"
    with _session() as session:
        groups = counts.coverage(session, by, window, flt)
    groups.sort(key=lambda g: (g["ratio"] or 0, g["name"]))
    keys = [[g["key"], g["name"]] for g in groups] if by == "unit" else [g["key"] for g in groups]
    figure = go.Figure(
        go.Bar(
            x=[(g["ratio"] or 0) * 100 for g in groups],
            y=[escape(g["name"], quote=False) for g in groups],  # Plotly reads tags in labels
            orientation="h",
            customdata=keys,
            marker_color=[choropleth.ratio_colour(g["ratio"]) for g in groups],
            text=[f"{g['numerator']:,}/{g['denominator']:,}" for g in groups],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}% (%{text})<extra></extra>",
        )
    )
    title = (
        t("cov.chart.officers", lang).format(unit=query.get("unit_name"))
        if by == "officer"
        else t("cov.chart.units", lang)
    )
    figure.update_layout(
        title=title,
        height=max(360, 22 * len(groups) + 80),
        **DARK,
        xaxis=dict(title="%", gridcolor="#24406a", rangemode="tozero"),
        yaxis=dict(automargin=True),
    )
    crumb = [html.Span(" › "), html.Span(query["unit_name"], id=ids.COV_CRUMB_UNIT)] if query.get("unit") else []
    return figure, crumb


def trend_chart(query, step, lang):
    if not query:
        return no_update
    step = step if step in trends.TREND_STEPS else "month"
    window, flt = _read(query)
    window = trends.recent_steps(window.end, step, TREND_LENGTH[step])
    with _session() as session:
        points = trends.trend(session, window, flt, step)
    figure = go.Figure(
        [
            go.Bar(
                x=[p["start"] for p in points],
                y=[p["inspections"] for p in points],
                name=t("cov.kpi.inspections", lang),
                marker_color="#24406a",
                yaxis="y2",
            ),
            go.Scatter(
                x=[p["start"] for p in points],
                y=[(p["ratio"] or 0) * 100 for p in points],
                mode="lines+markers",
                name=t("cov.kpi.coverage", lang),
                line=dict(color="#ffd166"),
                hovertemplate="%{x}: %{y:.2f}%<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title=t("cov.chart.trend", lang),
        height=320,
        **DARK,
        legend=dict(orientation="h", y=-0.2),
        xaxis=dict(type="category"),
        yaxis=dict(title="%", gridcolor="#24406a", rangemode="tozero"),
        yaxis2=dict(overlaying="y", side="right", showgrid=False, rangemode="tozero"),
    )
    return figure


def domain_chart(query, lang):
    """Coverage by domain across the other filters; the selected domain is outlined."""
    if not query:
        return no_update
    window, flt = _read(query, domain=None)
    with _session() as session:
        groups = counts.coverage(session, "domain", window, flt)
        names = {d["key"]: d["en" if lang == "en" else "zh"] for d in queries.domains(session)}
    groups.sort(key=lambda g: -(g["ratio"] or 0))
    selected = query.get("domain")
    figure = go.Figure(
        go.Bar(
            x=[names.get(g["key"], g["name"]) for g in groups],
            y=[(g["ratio"] or 0) * 100 for g in groups],
            customdata=[g["key"] for g in groups],
            marker_color=[choropleth.ratio_colour(g["ratio"]) for g in groups],
            marker_line=dict(color=["#ffd166" if g["key"] == selected else "#13243d" for g in groups], width=3),
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    figure.update_layout(
        title=t("cov.chart.domains", lang),
        height=320,
        **DARK,
        yaxis=dict(title="%", gridcolor="#24406a", rangemode="tozero"),
    )
    return figure


def blind_chart(query, lang):
    """Blind spots per township by risk level (stacked); click a township to select it."""
    if not query:
        return no_update
    end = dt.date.fromisoformat(query["end"])
    start = (end - dt.timedelta(days=int(query["blind_days"]))).isoformat()
    with _session() as session:
        names = queries.township_names(session)
        by_risk = {}
        for risk in ("1", "2", "3", "4"):
            window, flt = _read(query, start=start, township=None, risk=risk)
            by_risk[risk] = {
                g["key"]: g["denominator"] - g["numerator"] for g in counts.coverage(session, "township", window, flt)
            }
    order = sorted(names, key=lambda c: sum(by_risk[r].get(c, 0) for r in by_risk))
    selected = query.get("township")
    labels = [("▶ " if c == selected else "") + names[c] for c in order]
    figure = go.Figure(
        [
            go.Bar(
                y=labels,
                x=[by_risk[r].get(c, 0) for c in order],
                customdata=order,
                orientation="h",
                name=t(f"risk.{r}", lang),
                marker_color=RISK_COLORS[r],
            )
            for r in ("4", "3", "2", "1")
        ]
    )
    figure.update_layout(
        barmode="stack",
        title=t("cov.chart.blind", lang).format(n=query["blind_days"]),
        height=max(320, 18 * len(order) + 90),
        **DARK,
        legend=dict(orientation="h", y=-0.08),
        xaxis=dict(gridcolor="#24406a"),
        yaxis=dict(automargin=True),
    )
    return figure


def response_chart(query, lang):
    if not query:
        return no_update
    window, flt = _read(query)
    with _session() as session:
        bins = summary.response_histogram(session, window, flt)
    x = [b["minutes"] for b in bins]
    figure = go.Figure(
        [
            go.Bar(x=x, y=[b["on_time"] for b in bins], name=t("cov.kpi.on_time", lang), marker_color="#31a354"),
            go.Bar(
                x=x, y=[b["inspections"] - b["on_time"] for b in bins], name=t("cov.late", lang), marker_color="#de2d26"
            ),
        ]
    )
    figure.update_layout(
        barmode="stack",
        title=t("cov.chart.response", lang),
        height=320,
        **DARK,
        legend=dict(orientation="h", y=-0.2),
        xaxis=dict(title=t("devices.minutes", lang)),
        yaxis=dict(gridcolor="#24406a"),
    )
    return figure


# -- the table and its exports --------------------------------------------------------------
def table(query, by, lang):
    if not query:
        return no_update, no_update, no_update, no_update
    by = by if by in TABLES else "unit"
    window, flt = _read(query)
    with _session() as session:
        groups = counts.coverage(session, by, window, flt)
    rows = groups  # numbers stay numbers, so the table sorts 3.2 % below 26.6 %
    columns = [_column(c, lang) for c in coverage_view.COLUMNS]
    args = {
        k: v
        for k, v in (
            ("by", by),
            ("start", query["start"]),
            ("end", query["end"]),
            ("township", query.get("township")),
            ("domain", query.get("domain")),
            ("unit", query.get("unit")),
        )
        if v
    }
    return rows, columns, f"/api/coverage.csv?{urlencode(args)}", f"/api/coverage.xlsx?{urlencode(args)}"
