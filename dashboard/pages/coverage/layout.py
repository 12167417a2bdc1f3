"""The 覆盖率 page's layout, its options in both languages and their translation."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dash_table, dcc, html

from dashboard import choropleth, ids
from dashboard.auth import require
from dashboard.components.filters import domain_dropdown, domain_options, township_dropdown
from dashboard.components.maps import district_map
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from dashboard.pages.coverage.query import DEFAULT_PERIOD, PERIODS, TABLES, _session
from geo.coverage import trends
from geo.places import queries


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
                    township_dropdown(ids.COV_TOWNSHIP, towns, value=township if township in towns else None),
                    domain_dropdown(ids.COV_DOMAIN, domains, value=domain),
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
                            district_map(
                                ids.COV_MAP,
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
