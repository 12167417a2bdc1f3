"""覆盖率 page, for leaders: KPI cards, coverage by unit (drill down to its officers), the
township choropleth of coverage or of blind spots, the trend, coverage by domain, response
times, and every table exportable as audited CSV / XLSX.

Selections cross-filter: a township clicked on the map (or in the blind-spot chart) and a
domain clicked in the domain chart set the two dropdowns, and every chart follows the
dropdowns. A chart of townships still shows every township with the selected one outlined;
likewise for domains."""

from __future__ import annotations

import datetime as dt
from html import escape
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dash_table, dcc, html, no_update
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format, Group

from dashboard import basemap, choropleth, coverage_view, ids
from dashboard.auth import require
from dashboard.config import web_config
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.coverage import counts, model, summary, trends
from geo.places import queries

PERIODS = ("last30", "day", "week", "month", "quarter", "year", "custom")
DEFAULT_PERIOD = "last30"  # on the 1st of a month 本月 is one day: an empty map
RISK_COLORS = {"1": "#9ecae1", "2": "#fdd0a2", "3": "#fd8d3c", "4": "#d62728"}
TREND_LENGTH = {"day": 30, "week": 12, "month": 12}  # steps shown, ending with the window's last day
TABLES = ("unit", "body", "township", "domain", "officer", "risk")
QUERY = Input(ids.COV_QUERY, "data")
DARK = dict(
    paper_bgcolor="#13243d",
    plot_bgcolor="#13243d",
    font=dict(color="#e6edf6", size=11),
    margin=dict(l=10, r=10, t=36, b=10),
)


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/coverage", name="coverage", layout=layout)
    app.callback(
        Output(ids.COV_TOWNSHIP, "value"),
        Output(ids.COV_DOMAIN, "value"),
        Input(ids.COV_TOWNS, "clickData"),
        Input(ids.COV_BLIND_CHART, "clickData"),
        Input(ids.COV_DOMAIN_CHART, "clickData"),
        Input(ids.COV_CLEAR, "n_clicks"),
        State(ids.COV_TOWNSHIP, "value"),
        State(ids.COV_DOMAIN, "value"),
        prevent_initial_call=True,
    )(cross_filter)
    app.callback(
        Output(ids.COV_UNIT, "data"),
        Input(ids.COV_UNIT_CHART, "clickData"),
        Input(ids.COV_CRUMB_DISTRICT, "n_clicks"),
        State(ids.COV_UNIT, "data"),
        prevent_initial_call=True,
    )(drill)
    app.callback(
        Output(ids.COV_QUERY, "data"),
        Output(ids.COV_PERIOD, "value"),
        Output(ids.COV_DATES, "start_date"),
        Output(ids.COV_DATES, "end_date"),
        Output(ids.COV_ERROR, "children"),
        Input(ids.COV_PERIOD, "value"),
        Input(ids.COV_DATES, "start_date"),
        Input(ids.COV_DATES, "end_date"),
        Input(ids.COV_TOWNSHIP, "value"),
        Input(ids.COV_DOMAIN, "value"),
        Input(ids.COV_UNIT, "data"),
        Input(ids.COV_BLIND_DAYS, "value"),
    )(make_query)
    app.callback(Output(ids.COV_KPIS, "children"), QUERY, Input(ids.LANG, "data"))(kpi_cards)
    app.callback(
        Output(ids.COV_TOWNS, "data"),
        Output(ids.COV_TOWNS, "hideout"),
        Output(ids.COV_LEGEND, "children"),
        QUERY,
        Input(ids.COV_MAP_MODE, "value"),
        Input(ids.COV_BLIND_RISK, "value"),
        Input(ids.LANG, "data"),
    )(township_map)
    app.callback(
        Output(ids.COV_UNIT_CHART, "figure"), Output(ids.COV_CRUMBS_UNIT, "children"), QUERY, Input(ids.LANG, "data")
    )(unit_chart)
    app.callback(Output(ids.COV_TREND, "figure"), QUERY, Input(ids.COV_TREND_STEP, "value"), Input(ids.LANG, "data"))(
        trend_chart
    )
    app.callback(Output(ids.COV_DOMAIN_CHART, "figure"), QUERY, Input(ids.LANG, "data"))(domain_chart)
    app.callback(Output(ids.COV_RESPONSE_CHART, "figure"), QUERY, Input(ids.LANG, "data"))(response_chart)
    app.callback(Output(ids.COV_BLIND_CHART, "figure"), QUERY, Input(ids.LANG, "data"))(blind_chart)
    app.callback(
        Output(ids.COV_TABLE, "data"),
        Output(ids.COV_TABLE, "columns"),
        Output(ids.COV_EXPORT_CSV, "href"),
        Output(ids.COV_EXPORT_XLSX, "href"),
        QUERY,
        Input(ids.COV_TABLE_BY, "value"),
        Input(ids.LANG, "data"),
    )(table)
    app.callback(
        Output(ids.COV_HEADING, "children"),
        Output(ids.COV_PERIOD, "options"),
        Output(ids.COV_TOWNSHIP, "placeholder"),
        Output(ids.COV_DOMAIN, "placeholder"),
        Output(ids.COV_DOMAIN, "options"),
        Output(ids.COV_BLIND_DAYS, "options"),
        Output(ids.COV_CLEAR, "children"),
        Output(ids.COV_MAP_MODE, "options"),
        Output(ids.COV_BLIND_RISK, "options"),
        Output(ids.COV_TREND_STEP, "options"),
        Output(ids.COV_TABLE_BY, "options"),
        Output(ids.COV_CRUMB_DISTRICT, "children"),
        Output(ids.COV_TABLE_HEADING, "children"),
        Input(ids.LANG, "data"),
    )(translate)


# -- layout ---------------------------------------------------------------------------------
def layout(start=None, end=None, period=None, township=None, domain=None, **_query):
    require("view")
    runtime = _runtime()
    with runtime.session() as session:
        district = queries.district_geojson(session)
        towns = queries.township_names(session)
        domains = queries.domains(session)
    custom = bool(start or end)
    minx, miny, maxx, maxy = choropleth.district_bounds(district)
    return html.Div(
        className="lg-page lg-cov",
        children=[
            html.Div(
                className="lg-row",
                children=[
                    html.H2(
                        id=ids.COV_HEADING,
                        children=t("cov.heading"),
                        style={"fontSize": "16px", "margin": "0 12px 0 0"},
                    ),
                    html.Div(
                        className="lg-crumbs",
                        children=[
                            html.Button(
                                id=ids.COV_CRUMB_DISTRICT, className="lg-crumb", children=t("cov.district"), n_clicks=0
                            ),
                            html.Span(id=ids.COV_CRUMBS_UNIT),
                        ],
                    ),
                ],
            ),
            html.Div(
                className="lg-filterbar",
                children=[
                    dcc.Dropdown(
                        id=ids.COV_PERIOD,
                        options=period_options("zh"),
                        clearable=False,
                        style={"minWidth": "130px"},
                        value="custom" if custom else (period if period in PERIODS else DEFAULT_PERIOD),
                    ),
                    dcc.DatePickerRange(
                        id=ids.COV_DATES,
                        start_date=start,
                        end_date=end,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        minimum_nights=0,
                    ),
                    dcc.Dropdown(
                        id=ids.COV_TOWNSHIP,
                        value=township if township in towns else None,
                        placeholder=t("filter.township"),
                        style={"minWidth": "170px"},
                        options=[{"label": name, "value": code} for code, name in towns.items()],
                    ),
                    dcc.Dropdown(
                        id=ids.COV_DOMAIN,
                        value=domain,
                        placeholder=t("filter.domain"),
                        style={"minWidth": "200px"},
                        options=domain_options(domains, "zh"),
                    ),
                    dcc.Dropdown(
                        id=ids.COV_BLIND_DAYS,
                        value=90,
                        clearable=False,
                        style={"minWidth": "150px"},
                        options=blind_day_options("zh"),
                    ),
                    html.Button(id=ids.COV_CLEAR, className="lg-btn", children=t("cov.clear"), n_clicks=0),
                    html.Span(id=ids.COV_ERROR, className="lg-error"),
                    dcc.Store(id=ids.COV_QUERY),
                    dcc.Store(id=ids.COV_UNIT),
                    dcc.Store(id=ids.COV_DOMAIN_NAMES, data=domains),
                ],
            ),
            html.Div(id=ids.COV_KPIS, className="lg-kpis"),
            html.Div(
                className="lg-cov-grid",
                children=[
                    html.Div(
                        className="lg-map-wrap",
                        children=[
                            html.Div(
                                className="lg-filterbar lg-map-tools",
                                children=[
                                    dcc.RadioItems(
                                        id=ids.COV_MAP_MODE,
                                        value="coverage",
                                        inline=True,
                                        options=map_mode_options("zh"),
                                    ),
                                    dcc.Dropdown(
                                        id=ids.COV_BLIND_RISK,
                                        value="all",
                                        clearable=False,
                                        style={"minWidth": "140px"},
                                        options=blind_risk_options("zh"),
                                    ),
                                ],
                            ),
                            basemap.leaflet_map(
                                ids.COV_MAP,
                                web_config(),
                                dl.GeoJSON(
                                    id=ids.COV_TOWNS,
                                    style={"variable": "lawgrid.valueStyle"},
                                    hoverStyle={"weight": 3, "color": "#1f3b64"},
                                ),
                                district=district,
                                class_name="lg-cov-map",
                                bounds=[[miny, minx], [maxy, maxx]],
                                maxZoom=16,
                            ),
                            html.Div(id=ids.COV_LEGEND, className="lg-legend"),
                        ],
                    ),
                    html.Div(className="lg-scroll", children=_graph(ids.COV_UNIT_CHART)),
                ],
            ),
            html.Div(
                className="lg-cov-charts",
                children=[
                    html.Div(
                        className="lg-panel",
                        children=[
                            dcc.RadioItems(
                                id=ids.COV_TREND_STEP, value="month", inline=True, options=step_options("zh")
                            ),
                            _graph(ids.COV_TREND),
                        ],
                    ),
                    html.Div(className="lg-panel", children=_graph(ids.COV_DOMAIN_CHART)),
                    html.Div(className="lg-panel", children=_graph(ids.COV_BLIND_CHART)),
                    html.Div(className="lg-panel", children=_graph(ids.COV_RESPONSE_CHART)),
                ],
            ),
            html.Div(
                className="lg-panel",
                children=[
                    html.Div(
                        className="lg-row",
                        children=[
                            html.H3(id=ids.COV_TABLE_HEADING, children=t("cov.table")),
                            dcc.Dropdown(
                                id=ids.COV_TABLE_BY,
                                value="unit",
                                clearable=False,
                                style={"minWidth": "150px"},
                                className="lg-light",
                                options=table_options("zh"),
                            ),
                            html.A("CSV", id=ids.COV_EXPORT_CSV, className="lg-btn", download="", target="_blank"),
                            html.A("XLSX", id=ids.COV_EXPORT_XLSX, className="lg-btn", download="", target="_blank"),
                        ],
                    ),
                    dash_table.DataTable(
                        id=ids.COV_TABLE,
                        page_size=15,
                        sort_action="native",
                        style_table={"overflowX": "auto"},
                        style_cell={
                            "backgroundColor": "#13243d",
                            "color": "#e6edf6",
                            "fontSize": 12,
                            "textAlign": "left",
                        },
                        style_header={"backgroundColor": "#24406a", "fontWeight": "bold"},
                    ),
                ],
            ),
        ],
    )


def _graph(graph_id: str):
    return dcc.Loading(dcc.Graph(id=graph_id, config={"displaylogo": False}), type="dot", color="#9cc3ff")


def period_options(lang):
    return [{"label": t(f"cov.period.{p}", lang), "value": p} for p in PERIODS]


def domain_options(domains, lang):
    return [{"label": d["en" if lang == "en" else "zh"], "value": d["key"]} for d in domains]


def blind_day_options(lang):
    return [{"label": t("cov.blind_days", lang).format(n=n), "value": n} for n in (30, 60, 90, 180, 365)]


def map_mode_options(lang):
    return [
        {"label": t("cov.map.coverage", lang), "value": "coverage"},
        {"label": t("cov.map.blind", lang), "value": "blind"},
    ]


def blind_risk_options(lang):
    return [{"label": t("cov.risk.all", lang), "value": "all"}] + [
        {"label": t(f"risk.{r}", lang), "value": str(r)} for r in (4, 3, 2, 1)
    ]


def step_options(lang):
    return [{"label": t(f"cov.step.{s}", lang), "value": s} for s in trends.TREND_STEPS]


def table_options(lang):
    return [{"label": t(f"cov.by.{b}", lang), "value": b} for b in TABLES]


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


def translate(lang):
    with _session() as session:
        domains = queries.domains(session)
    return (
        t("cov.heading", lang),
        period_options(lang),
        t("filter.township", lang),
        t("filter.domain", lang),
        domain_options(domains, lang),
        blind_day_options(lang),
        t("cov.clear", lang),
        map_mode_options(lang),
        blind_risk_options(lang),
        step_options(lang),
        table_options(lang),
        t("cov.district", lang),
        t("cov.table", lang),
    )
