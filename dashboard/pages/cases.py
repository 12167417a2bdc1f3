"""办案 pages: the cases of the caller's units by state, nearest deadline first, warnings in
colour (/cases); the reviewer's queue (/cases/review, 审核); the organ head's queue
(/cases/approval, 待审批); and the supervisors' warnings board (/cases/warnings), refreshed
live when the sweep or a step raises a warning."""

from __future__ import annotations

import functools

import dash
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from dash_socketio import DashSocketIO

from dashboard import ids
from dashboard.auth import require
from dashboard.components.tables import data_table
from dashboard.context import runtime as _runtime
from dashboard.context import services
from dashboard.i18n import t
from dashboard.i18n.cases import STATUSES
from geo.cases import views
from geo.cases.clocks import CASE_CLOCKS, SOURCE_CLOCKS
from geo.places import queries as place_queries
from services import calendar as calendar_uses

WARNING_CLOCKS = (*CASE_CLOCKS, *SOURCE_CLOCKS)
LEVEL_COLOURS = {"amber": "#8a6d00", "red": "#8f1d1d", "breach": "#4a0d0d"}
COLUMNS = ("case_no", "party", "unit", "status", "next_due", "clock", "warning")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/cases", name="cases", layout=layout)
    for queue in ("review", "approval"):
        dash.register_page(
            f"{__name__}.{queue}",
            path=f"/cases/{queue}",
            name=f"cases-{queue}",
            layout=functools.partial(layout, queue=queue),
        )
    dash.register_page(f"{__name__}.warnings", path="/cases/warnings", name="case-warnings", layout=warnings_layout)
    app.callback(
        Output(ids.CASES_TABLE, "data"),
        Output(ids.CASES_TABLE, "columns"),
        Output(ids.CASES_COUNT, "children"),
        Output(ids.CASES_HEADING, "children"),
        Input(ids.CASES_STATUS, "value"),
        Input(ids.CASES_WARNING, "value"),
        Input(ids.CASES_QUEUE, "data"),
        Input(ids.LANG, "data"),
    )(show_cases)
    app.callback(
        Output(ids.WARNINGS_CHART, "figure"),
        Output(ids.WARNINGS_TABLE, "data"),
        Output(ids.WARNINGS_TABLE, "columns"),
        Output(ids.WARNINGS_HEADING, "children"),
        Output(ids.WARNINGS_CALENDAR, "children"),
        Output(ids.WARNINGS_SOURCES, "data"),
        Output(ids.WARNINGS_SOURCES, "columns"),
        Output(ids.WARNINGS_COUNTS, "children"),
        Output("warnings-sources-heading", "children"),
        Output(ids.WARNINGS_LEVEL, "options"),
        Output(ids.WARNINGS_CLOCK, "options"),
        Input(ids.WARNINGS_SOCKET, "data-case_warning"),
        Input(ids.LANG, "data"),
        Input(ids.WARNINGS_UNIT, "value"),
        Input(ids.WARNINGS_LEVEL, "value"),
        Input(ids.WARNINGS_CLOCK, "value"),
    )(show_warnings)


def layout(queue=None, **_query):
    require("case.view")
    statuses = ["open", "all", *STATUSES]
    return html.Div(
        className="lg-page",
        children=[
            dcc.Store(id=ids.CASES_QUEUE, data=queue),
            html.Nav(
                className="lg-subnav",
                children=[
                    dcc.Link(t(f"nav.{key}"), href=href, style={"marginRight": "12px"})
                    for key, href in (
                        ("cases", "/cases"),
                        ("case_sources", "/cases/sources"),
                        ("case_review", "/cases/review"),
                        ("case_approval", "/cases/approval"),
                        ("case_warnings", "/cases/warnings"),
                    )
                ],
            ),
            html.H2(id=ids.CASES_HEADING, style={"fontSize": "16px"}),
            html.Div(
                className="lg-filters",
                style={} if queue is None else {"display": "none"},
                children=[
                    dcc.Dropdown(
                        id=ids.CASES_STATUS,
                        value="open",
                        clearable=False,
                        style={"width": "200px"},
                        options=[{"label": _status_label(s), "value": s} for s in statuses],
                    ),
                    dcc.Dropdown(
                        id=ids.CASES_WARNING,
                        value=None,
                        placeholder=t("cases.any_warning"),
                        style={"width": "160px"},
                        options=[{"label": t(f"case.level.{lv}"), "value": lv} for lv in ("amber", "red", "breach")],
                    ),
                ],
            ),
            html.Span(id=ids.CASES_COUNT, className="lg-note"),
            _table(ids.CASES_TABLE),
        ],
    )


def _table(table_id):
    """Cases or warnings: 25 a page, sortable, case numbers as links, rows in their level's colour."""
    return data_table(
        table_id,
        page_size=25,
        sort_action="native",
        markdown_options={"link_target": "_self"},
        style_table={"overflowX": "auto"},
        style_data_conditional=[
            {"if": {"filter_query": f'{{level}} = "{lv}"'}, "backgroundColor": colour}
            for lv, colour in LEVEL_COLOURS.items()
        ],
    )


def _status_label(status: str, lang: str | None = None) -> str:
    if status == "open":
        return t("cases.all_open", lang)
    if status == "all":
        return t("cases.all", lang)
    return t(f"case.status.{status}", lang)


def show_cases(status, warning, queue, lang):
    who = require("case.view")
    with _runtime().session() as session:
        rows = views.list_cases(
            session, who, status="open" if queue else status, warning=warning, queue=queue, limit=1000
        )["cases"]
    data = [
        {
            "case_no": f"[{r['case_no']}](/case/{r['id']})",
            "party": r["party_name"],
            "unit": r["unit_name"],
            "status": t(f"case.status.{r['status']}", lang),
            "next_due": r["next_due"] or "",
            "clock": t(f"case.clock.{r['next_clock']}", lang) if r["next_clock"] else "",
            "warning": t(f"case.level.{r['warning']}", lang) if r["warning"] else "",
            "level": r["warning"] or "",
        }
        for r in rows
    ]
    columns = [
        {"name": t(f"col.{c}", lang), "id": c, "presentation": "markdown" if c == "case_no" else "input"}
        for c in COLUMNS
    ]
    heading = t(f"cases.heading.{queue}" if queue else "cases.heading", lang)
    return data, columns, t("cases.count", lang).format(len(data)), heading


def warnings_layout(**_query):
    """The 预警 board: filters, the count per unit, the cases one by one (most severe, nearest
    first), the sources grouped and counted."""
    who = require("case.view")
    with _runtime().session() as session:
        units = place_queries.units(session, who)
    return html.Div(
        className="lg-page",
        children=[
            DashSocketIO(id=ids.WARNINGS_SOCKET, url="/live", eventNames=["case_warning"]),
            html.H2(id=ids.WARNINGS_HEADING, style={"fontSize": "16px"}),
            html.Div(id=ids.WARNINGS_CALENDAR, className="lg-message"),
            html.Div(
                className="lg-filters",
                children=[
                    dcc.Dropdown(
                        id=ids.WARNINGS_UNIT,
                        options=[{"label": name, "value": uid} for uid, name in units],
                        placeholder="办案单位 / unit",
                        clearable=True,
                    ),
                    dcc.Dropdown(id=ids.WARNINGS_LEVEL, options=[], placeholder="级别 / level", clearable=True),
                    dcc.Dropdown(id=ids.WARNINGS_CLOCK, options=[], placeholder="期限事项 / deadline", clearable=True),
                ],
            ),
            html.P(id=ids.WARNINGS_COUNTS),
            dcc.Graph(id=ids.WARNINGS_CHART, config={"displaylogo": False}),
            _table(ids.WARNINGS_TABLE),
            html.H3(id="warnings-sources-heading", style={"fontSize": "14px"}),
            data_table(
                ids.WARNINGS_SOURCES, page_size=15, sort_action="native", markdown_options={"link_target": "_self"}
            ),
        ],
    )


def show_warnings(_pushed, lang, unit, level, clock):
    who = require("case.view")
    with _runtime().session() as session:
        board = views.warnings_board(session, who, limit=1000, unit_id=unit, level=level, clock=clock)
    units = sorted({r["unit_name"] or "—" for r in board["by_unit"]})
    figure = go.Figure(
        [
            go.Bar(
                name=t(f"case.level.{lv}", lang),
                x=units,
                y=[
                    sum(r["cases"] for r in board["by_unit"] if (r["unit_name"] or "—") == u and r["level"] == lv)
                    for u in units
                ],
                marker_color={"amber": "#f2b705", "red": "#e03131", "breach": "#7a1010"}[lv],
            )
            for lv in ("amber", "red", "breach")
        ]
    )
    figure.update_layout(
        barmode="stack",
        title=t("warnings.chart.cases", lang),
        template="plotly_dark",
        height=300,
        margin={"l": 40, "r": 10, "t": 40, "b": 80},
    )
    cases = [
        {
            "case_no": f"[{w['case_no']}](/case/{w['case_id']})",
            "party": w["party"],
            "handlers": w["handlers"] or "—",
            "unit": w["unit_name"],
            "clock": t(f"case.clock.{w['clock']}", lang),
            "due": w["due"] + (t("case.provisional", lang) if w.get("provisional") else ""),
            "warning": t(f"case.level.{w['level']}", lang),
            "level": w["level"],
        }
        for w in board["cases"]
    ]
    columns = [
        {"name": t(f"col.{c}", lang), "id": c, "presentation": "markdown" if c == "case_no" else "input"}
        for c in ("case_no", "party", "handlers", "unit", "clock", "due", "warning")
    ]
    sources = [
        {
            "unit": f"[{g['unit_name'] or '—'}](/cases/sources)",
            "kind": t(f"source.kind.{g['kind']}", lang),
            "clock": t(f"case.clock.{g['clock']}", lang),
            "warning": t(f"case.level.{g['level']}", lang),
            "n": g["n"],
            "oldest": g["oldest_due"],
        }
        for g in board["sources"]
    ]
    source_columns = [
        {"name": t(f"col.{c}", lang), "id": c, "presentation": "markdown" if c == "unit" else "input"}
        for c in ("unit", "kind", "clock", "warning", "n", "oldest")
    ]
    n_cases = sum(r["cases"] for r in board["by_unit"])
    n_sources = sum(r["n"] - r["cases"] for r in board["by_unit"])
    counts = t("warnings.counts", lang).format(cases=n_cases, sources=n_sources)
    calendar = calendar_uses.status(services(), who)
    notice = t("calendar.missing", lang).format(year=calendar["next_year"]) if calendar["next_year_missing"] else None
    levels = [{"label": t(f"case.level.{lv}", lang), "value": lv} for lv in views.LEVELS]
    clocks = [{"label": t(f"case.clock.{c}", lang), "value": c} for c in WARNING_CLOCKS]
    return (
        figure,
        cases,
        columns,
        t("warnings.heading", lang),
        notice,
        sources,
        source_columns,
        counts,
        t("warnings.sources", lang),
        levels,
        clocks,
    )
