"""覆盖率 page, for leaders: KPI cards, coverage by unit (drill down to its officers), the
township choropleth of coverage or of blind spots, the trend, coverage by domain, response
times, and every table exportable as audited CSV / XLSX.

Selections cross-filter: a township clicked on the map (or in the blind-spot chart) and a
domain clicked in the domain chart set the two dropdowns, and every chart follows the
dropdowns. A chart of townships still shows every township with the selected one outlined;
likewise for domains.

The page in three modules: layout (the controls and panels), query (the selection as one
query, cross-filters and drill-down), charts (one callback per chart, card and table)."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from dashboard import ids
from dashboard.pages.coverage.charts import (
    blind_chart,
    domain_chart,
    kpi_cards,
    response_chart,
    table,
    township_map,
    trend_chart,
    unit_chart,
)
from dashboard.pages.coverage.layout import layout, translate
from dashboard.pages.coverage.query import cross_filter, drill, make_query

QUERY = Input(ids.COV_QUERY, "data")


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
