"""监督考核 (/supervision), the supervisor's cockpit: every indicator for a period in the caller's
scope (the district for oversight, his own units for a unit's head) beside the previous period,
the median of units and its target; the chosen indicator by unit (or township, body) as bars
and on the township map; a click on a card, a bar or a township opens the records behind that
figure, which export as CSV (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, dcc, html, no_update

from dashboard import ids
from dashboard.auth import require
from dashboard.components.tables import data_table
from dashboard.context import attempt, services
from dashboard.i18n import t
from geo.access import policy
from geo.infra.errors import explain
from geo.infra.timezone import BEIJING
from geo.places import queries
from geo.supervision import cases as sup_cases
from geo.supervision import engine
from services import supervision as uses

DEFAULT_INDICATOR = "participation"
DARK = dict(
    paper_bgcolor="#13243d",
    plot_bgcolor="#13243d",
    font=dict(color="#e6edf6", size=11),
    margin=dict(l=10, r=10, t=36, b=10),
)
GOOD, BAD, NEUTRAL = "#31a354", "#de2d26", "#4a90d9"
LIGHT = {"color": "#e6edf6"}
DIM = {"color": "#9fb3c8", "fontSize": "12px"}
MAP_SCALE = [[0, "#f7fcf5"], [0.5, "#74c476"], [1, "#00441b"]]


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/supervision", name="supervision", layout=layout)
    app.callback(
        Output(ids.SUP_CARDS, "children"),
        Output(ids.SUP_ERROR, "children"),
        Input(ids.SUP_PERIOD, "value"),
        Input(ids.SUP_SELECTED, "data"),
        Input(ids.LANG, "data"),
    )(cards)
    app.callback(
        Output(ids.SUP_TREND, "figure"),
        Input(ids.SUP_PERIOD, "value"),
        Input(ids.SUP_SELECTED, "data"),
        Input(ids.LANG, "data"),
    )(trend_chart)
    app.callback(
        Output(ids.SUP_SELECTED, "data"),
        Input({"type": ids.SUP_CARD, "key": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(select)
    app.callback(
        Output(ids.SUP_BARS, "figure"),
        Output(ids.SUP_MAP, "figure"),
        Output(ids.SUP_ABOUT, "children"),
        Input(ids.SUP_PERIOD, "value"),
        Input(ids.SUP_BY, "value"),
        Input(ids.SUP_SELECTED, "data"),
        Input(ids.LANG, "data"),
    )(charts)
    register_cases(app)
    app.callback(
        Output(ids.SUP_DRILL_TITLE, "children"),
        Output(ids.SUP_DRILL, "data"),
        Output(ids.SUP_DRILL, "columns"),
        Output(ids.SUP_EXPORT, "href"),
        Input(ids.SUP_BARS, "clickData"),
        Input(ids.SUP_MAP, "clickData"),
        Input(ids.SUP_SELECTED, "data"),
        Input(ids.SUP_PERIOD, "value"),
        Input(ids.LANG, "data"),
        State(ids.SUP_BY, "value"),
    )(drill)


def register_cases(app: dash.Dash) -> None:
    app.callback(
        Output(ids.SUP_SCORES, "children"),
        Output(ids.SUP_REPORT_PDF, "href"),
        Output(ids.SUP_REPORT_XLSX, "href"),
        Input(ids.SUP_PERIOD, "value"),
        Input(ids.LANG, "data"),
    )(scores)
    app.callback(
        Output(ids.SUP_CASES, "data"),
        Output(ids.SUP_CASES, "columns"),
        Output(ids.SUP_STEP_CASE, "options"),
        Input(ids.SUP_CASES_TICK, "data"),
        Input(ids.LANG, "data"),
    )(case_table)
    app.callback(
        Output(ids.SUP_CASE_MESSAGE, "children"),
        Output(ids.SUP_CASES_TICK, "data"),
        Input(ids.SUP_OPEN, "n_clicks"),
        Input(ids.SUP_STEP, "n_clicks"),
        Input(ids.SUP_REPLY, "n_clicks"),
        State(ids.SUP_OPEN_UNIT, "value"),
        State(ids.SUP_OPEN_LEAD, "value"),
        State(ids.SUP_OPEN_SUBJECT, "value"),
        State(ids.SUP_SELECTED, "data"),
        State(ids.SUP_STEP_CASE, "value"),
        State(ids.SUP_STEP_KIND, "value"),
        State(ids.SUP_STEP_DUE, "date"),
        State(ids.SUP_STEP_NOTE, "value"),
        State(ids.SUP_REPLY_ACCEPT, "value"),
        State(ids.SUP_CASES_TICK, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(case_action)


def layout(**_query):
    who = require("supervision.view")
    with services().session() as session:
        units = sorted(((int(k), n) for k, n in engine.group_names(session, "unit").items()), key=lambda u: u[1])
    if who.unit_ids is not None:
        units = [u for u in units if u[0] in who.unit_ids]
    year = dt.datetime.now(BEIJING).year
    periods = [f"{year}-Q{q}" for q in range(1, 5)] + [str(y) for y in range(year, year - 10, -1)]
    return html.Div(
        className="lg-page",
        children=[
            html.H2(id=ids.SUP_HEADING, children=t("sup.heading"), style={"fontSize": "16px"}),
            html.Div(
                className="lg-filters lg-light",
                children=[
                    html.Label(t("sup.period"), htmlFor=ids.SUP_PERIOD, style=LIGHT),
                    dcc.Dropdown(
                        id=ids.SUP_PERIOD,
                        options=sorted(
                            ({"label": p, "value": p} for p in periods), key=lambda o: o["value"], reverse=True
                        ),
                        value=str(year),
                        clearable=False,
                        searchable=True,
                        style={"minWidth": "180px"},
                    ),
                    html.Span(t("sup.period_help"), className="lg-help", style=DIM),
                    html.Label(t("sup.by"), htmlFor=ids.SUP_BY, style=LIGHT),
                    dcc.RadioItems(
                        id=ids.SUP_BY,
                        options=[{"label": t(f"sup.by.{b}"), "value": b} for b in ("unit", "township")],
                        value="unit",
                        inline=True,
                        style=LIGHT,
                        labelStyle=LIGHT,
                        inputStyle={"marginRight": "4px", "marginLeft": "8px"},
                    ),
                ],
            ),
            html.Div(id=ids.SUP_ERROR, className="lg-error", role="alert"),
            dcc.Store(id=ids.SUP_SELECTED, data=DEFAULT_INDICATOR),
            html.Div(id=ids.SUP_CARDS, className="lg-kpis"),
            html.Div(id=ids.SUP_ABOUT, className="lg-message"),
            html.Div(
                className="lg-chart-row",
                style={"display": "grid", "gridTemplateColumns": "1fr 1fr", "gap": "8px"},
                children=[
                    dcc.Graph(id=ids.SUP_BARS, config={"displayModeBar": False}, style={"height": "380px"}),
                    dcc.Graph(id=ids.SUP_MAP, config={"displayModeBar": False}, style={"height": "380px"}),
                ],
            ),
            dcc.Graph(id=ids.SUP_TREND, config={"displayModeBar": False}, style={"height": "240px"}),
            html.H3(id=ids.SUP_DRILL_TITLE, style={"fontSize": "14px"}),
            html.A(t("sup.export"), id=ids.SUP_EXPORT, className="lg-btn", href="#"),
            data_table(ids.SUP_DRILL, page_size=20, data=[], columns=[], style_table={"overflowX": "auto"}),
            html.H3(t("sup.scores"), style={"fontSize": "14px", "marginTop": "16px"}),
            html.Div(
                [
                    html.A(t("sup.report_pdf"), id=ids.SUP_REPORT_PDF, className="lg-btn", href="#"),
                    html.A(t("sup.report_xlsx"), id=ids.SUP_REPORT_XLSX, className="lg-btn", href="#"),
                ],
                style={"display": "flex", "gap": "8px", "marginBottom": "6px"},
            ),
            html.Div(id=ids.SUP_SCORES),
            html.H3(t("sup.cases"), style={"fontSize": "14px", "marginTop": "16px"}),
            dcc.Store(id=ids.SUP_CASES_TICK, data=0),
            html.Div(id=ids.SUP_CASE_MESSAGE, className="lg-message", role="status"),
            _case_forms(who, units),
            data_table(ids.SUP_CASES, page_size=15, data=[], columns=[], style_table={"overflowX": "auto"}),
        ],
    )


def _case_forms(who, units: list[tuple[int, str]]):
    """The organ opens cases and takes steps; a unit's heads reply. Every control is there for
    every role (the callbacks need them); those of another role are hidden, and the use cases
    refuse them anyway."""
    manage, answer = policy.allowed(who, "supervision.manage"), policy.allowed(who, "supervision.reply")
    field = {"minWidth": "200px"}

    def shown(ok: bool, style: dict | None = None) -> dict:
        return {**(style or {}), **({} if ok else {"display": "none"})}

    return html.Div(
        [
            html.Div(
                className="lg-filters lg-light",
                style=shown(manage),
                children=[
                    dcc.Dropdown(
                        id=ids.SUP_OPEN_UNIT,
                        options=[{"label": n, "value": i} for i, n in units],
                        placeholder=t("sup.open.unit"),
                        style=field,
                    ),
                    dcc.Dropdown(
                        id=ids.SUP_OPEN_LEAD,
                        options=[{"label": t(f"sup.lead.{k}"), "value": k} for k in sup_cases.LEAD_KINDS],
                        value="finding",
                        clearable=False,
                        style=field,
                    ),
                    dcc.Input(id=ids.SUP_OPEN_SUBJECT, placeholder=t("sup.open.subject"), style={"minWidth": "320px"}),
                    html.Button(t("sup.open"), id=ids.SUP_OPEN, className="lg-btn", n_clicks=0),
                ],
            ),
            html.Div(
                className="lg-filters lg-light",
                style=shown(manage or answer),
                children=[
                    dcc.Dropdown(id=ids.SUP_STEP_CASE, placeholder=t("sup.step.case"), style=field),
                    html.Div(
                        dcc.Dropdown(
                            id=ids.SUP_STEP_KIND,
                            options=[{"label": t(f"sup.kind.{k}"), "value": k} for k in sup_cases.ORGAN_STEPS],
                            placeholder=t("sup.step.kind"),
                        ),
                        style=shown(manage, field),
                    ),
                    html.Div(
                        dcc.DatePickerSingle(
                            id=ids.SUP_STEP_DUE,
                            display_format="YYYY-MM-DD",
                            first_day_of_week=1,
                            placeholder=t("sup.step.due"),
                        ),
                        style=shown(manage),
                    ),
                    html.Div(
                        dcc.RadioItems(
                            id=ids.SUP_REPLY_ACCEPT,
                            options=[
                                {"label": t("sup.reply.accept"), "value": "yes"},
                                {"label": t("sup.reply.object"), "value": "no"},
                            ],
                            value="yes",
                            inline=True,
                            labelStyle=LIGHT,
                        ),
                        style=shown(answer),
                    ),
                    dcc.Input(id=ids.SUP_STEP_NOTE, placeholder=t("sup.step.note"), style={"minWidth": "320px"}),
                    html.Button(t("sup.step"), id=ids.SUP_STEP, className="lg-btn", n_clicks=0, style=shown(manage)),
                    html.Button(t("sup.reply"), id=ids.SUP_REPLY, className="lg-btn", n_clicks=0, style=shown(answer)),
                ],
            ),
        ]
    )


def _fmt(ind: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "—"
    if ind["kind"] == "rate":
        return f"{value:.2f}%"
    if ind["kind"] == "ratio":
        return f"{value:.{1}f}"
    return f"{int(value):,}"


def _name(ind: dict[str, Any], lang: str | None) -> str:
    return ind["en"] if lang == "en" else ind["zh"]


def cards(period, selected, lang):
    who = require("supervision.view")
    result, error = attempt(uses.figures, services(), who, period=period or "", by="district")
    if error is not None:
        return [], explain(error, lang)
    out = []
    for ind in result["indicators"]:
        row = ind["rows"][0] if ind["rows"] else None
        value = row["value"] if row else (0.0 if ind["kind"] == "count" else None)
        colour = NEUTRAL
        if ind["target"] is not None and value is not None:
            met = value >= ind["target"] if ind["higher_is_better"] else value <= ind["target"]
            colour = GOOD if met else BAD
        details = [
            f"{t('sup.previous', lang)} {_fmt(ind, row['previous'] if row else None)}",
        ]
        if ind["median_of_units"] is not None and ind["kind"] != "count":
            details.append(f"{t('sup.median', lang)} {_fmt(ind, ind['median_of_units'])}")
        if ind["target"] is not None:
            details.append(f"{t('sup.target', lang)} {_fmt(ind, ind['target'])}")
        if row and ind["kind"] != "count":
            details.append(f"{row['num']:,} / {row['den']:,}")
        out.append(
            html.Button(
                id={"type": ids.SUP_CARD, "key": ind["indicator"]},
                className="lg-card lg-sup-card" + (" selected" if ind["indicator"] == selected else ""),
                n_clicks=0,
                title=ind["definition_en"] if lang == "en" else ind["definition_zh"],
                **{"data-indicator": ind["indicator"]},
                style={"borderTop": f"3px solid {colour}", "textAlign": "left", "cursor": "pointer"},
                children=[
                    html.Div(_fmt(ind, value), className="value"),
                    html.Div(_name(ind, lang) + (" *" if ind["inference"] else ""), className="label"),
                    html.Div(" · ".join(details), className="lg-note"),
                ],
            )
        )
    return out, ""


def select(_clicks):
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(_clicks or []):
        return no_update
    return trig["key"]


def charts(period, by, selected, lang):
    who = require("supervision.view")
    key = selected or DEFAULT_INDICATOR
    ind = engine.describe(engine.indicator(key))
    by = by if by in ind["dimensions"] else "township" if "township" in ind["dimensions"] else "district"
    result, error = attempt(uses.figures, services(), who, period=period or "", by=by, keys=[key])
    if error is not None:
        return go.Figure(layout=DARK), go.Figure(layout=DARK), explain(error, lang)
    fig = result["indicators"][0]
    with services().session() as session:
        names = engine.group_names(session, by)
        towns_geo = queries.townships_geojson(session, simplify_m=80)
    rows = [r for r in fig["rows"] if r["value"] is not None]
    rows.sort(key=lambda r: r["value"], reverse=True)
    labels = [names.get(str(r["key"]), str(r["key"])) for r in rows]
    bars = go.Figure(
        go.Bar(
            x=[r["value"] for r in rows],
            y=labels,
            orientation="h",
            customdata=[[str(r["key"]), r["num"], r["den"]] for r in rows],
            hovertemplate="%{y}: %{x}"
            + ("" if ind["kind"] == "count" else "<br>%{customdata[1]} / %{customdata[2]}")
            + "<extra></extra>",
            marker_color=NEUTRAL,
        ),
        layout=dict(
            DARK,
            title=t("sup.bars_title", lang).format(name=_name(ind, lang), period=result["period"]),
            yaxis=dict(autorange="reversed", automargin=True),
            height=380,
        ),
    )
    if fig["median_of_units"] is not None and by == "unit":
        bars.add_vline(x=fig["median_of_units"], line_dash="dot", line_color="#f5a623")
    # the township map, coloured by the indicator's figure per township
    by_town = {}
    if "township" in ind["dimensions"]:
        town_fig, _ = attempt(uses.figures, services(), who, period=period or "", by="township", keys=[key])
        if town_fig:
            by_town = {str(r["key"]): r for r in town_fig["indicators"][0]["rows"] if r["key"] is not None}
    features = towns_geo["features"]
    lon = sum(f["properties"]["lon"] for f in features) / max(len(features), 1)
    lat = sum(f["properties"]["lat"] for f in features) / max(len(features), 1)
    codes = [f["properties"]["code"] for f in features]
    values = [by_town[c]["value"] if c in by_town and by_town[c]["value"] is not None else None for c in codes]
    chart_map = go.Figure(
        go.Choroplethmap(
            geojson=towns_geo,
            locations=codes,
            featureidkey="properties.code",
            z=[v if v is not None else 0 for v in values],
            text=[f["properties"]["name"] for f in features],
            customdata=[[c] for c in codes],
            hovertemplate="%{text}: %{z}<extra></extra>",
            colorscale=MAP_SCALE,
            marker_opacity=0.75,
            marker_line_width=0.5,
            marker_line_color="#555",
        ),
        layout=dict(
            DARK,
            title=t("sup.map_title", lang).format(name=_name(ind, lang)),
            map=dict(style="white-bg", center=dict(lon=lon, lat=lat), zoom=8),
            height=380,
        ),
    )
    about = [
        html.Strong(_name(ind, lang)),
        html.Span(f"：{ind['definition_en'] if lang == 'en' else ind['definition_zh']} "),
        html.Span(f"{t('sup.formula', lang)}：{ind['formula']}。{t('sup.source', lang)}：{ind['source']}"),
    ]
    if ind["inference"]:
        about.append(html.P(f"* {t('sup.inference', lang)}：{ind['inference']}", className="lg-help"))
    return bars, chart_map, about


def drill(bar_click, map_click, selected, period, lang, by):
    who = require("supervision.view")
    key = selected or DEFAULT_INDICATOR
    ind = engine.describe(engine.indicator(key))
    trig = dash.ctx.triggered_id
    group_by, value = None, None
    if trig == ids.SUP_BARS and bar_click:
        group_by = by if by in ind["dimensions"] else "township"
        value = bar_click["points"][0]["customdata"][0]
    elif trig == ids.SUP_MAP and map_click and "township" in ind["dimensions"]:
        group_by, value = "township", map_click["points"][0]["customdata"][0]
    side = "num"
    args = dict(period=period or "", side=side, by=group_by, value=value)
    result, error = attempt(uses.records, services(), who, key, limit=1000, **args)
    if error is not None:
        return explain(error, lang), [], [], "#"
    with services().session() as session:
        names = engine.group_names(session, group_by) if group_by else {}
        unit_names = engine.group_names(session, "unit")
    where = names.get(str(value), str(value)) if group_by else t("sup.whole_scope", lang)
    title = t("sup.records_of", lang).format(
        name=f"{_name(ind, lang)} · {where}", side=ind["num_zh"], total=f"{result['total']:,}"
    )
    data = [
        {
            "kind": t(f"sup.kind.{r['kind']}", lang),
            "label": r["label"],
            "group": unit_names.get(str(r["unit_id"]), ""),
            "on_date": r["on_date"] or "",
            "counted": t("sup.yes" if r["num"] else "sup.no", lang),
        }
        for r in result["records"]
    ]
    columns = [{"name": t(f"sup.col.{c}", lang), "id": c} for c in ("kind", "label", "group", "on_date", "counted")]
    query = {k: v for k, v in args.items() if v is not None}
    href = f"/api/supervision/indicators/{key}/records.csv?{urlencode(query)}"
    return title, data, columns, href


def scores(period, lang):
    who = require("supervision.view")
    if not period or len(period) != 4 or not period.isdigit():
        return html.P(t("sup.scores_year_only", lang), className="lg-help", style=DIM), "#", "#"
    year = int(period)
    card, error = attempt(uses.scores, services(), who, year)
    if error is not None:
        return html.P(t("sup.no_scheme", lang).format(year=year), style=DIM), "#", "#"
    rows = [
        {
            "rank": g["rank"],
            "name": g["name"],
            "total": f"{g['total']:g} / {card['full_marks']:g}",
            "detail": "；".join(f"{i['zh']} {i['points']:g}/{i['max']:g}" for i in g["items"]),
        }
        for g in card["groups"]
    ]
    columns = [{"name": t(f"sup.col.{c}", lang), "id": c} for c in ("rank", "name", "total", "detail")]
    table = data_table(
        ids.SUP_SCORES + "-table",
        data=rows,
        columns=columns,
        page_size=20,
        style_cell={"textAlign": "left", "whiteSpace": "normal"},
    )
    return table, f"/api/supervision/reports/{year}.pdf", f"/api/supervision/reports/{year}.xlsx"


def case_table(_tick, lang):
    who = require("supervision.view")
    rows = uses.case_list(services(), who)
    data = [
        {
            "case_no": c["case_no"],
            "unit": c["unit_name"],
            "subject": c["subject"],
            "status": t(f"sup.status.{c['status']}", lang),
            "reply_due": (c["reply_due"] or "") + (f"（{t('sup.overdue', lang)}）" if c["overdue"] else ""),
            "last": t(f"sup.kind.{c['steps'][-1]['kind']}", lang) if c["steps"] else "",
        }
        for c in rows
    ]
    columns = [
        {"name": t(f"sup.col.{k}", lang), "id": k}
        for k in ("case_no", "unit", "subject", "status", "reply_due", "last")
    ]
    options = [{"label": f"{c['case_no']} {c['unit_name']}", "value": c["id"]} for c in rows if c["status"] != "closed"]
    return data, columns, options


def case_action(_open, _step, _reply, unit, lead, subject, selected, case_id, kind, due, note, accept, tick, lang):
    who = require("supervision.view")
    trig = dash.ctx.triggered_id
    ctx = services()
    if trig == ids.SUP_OPEN:
        result, error = attempt(
            uses.open_case,
            ctx,
            who,
            unit_id=unit,
            subject=(subject or "").strip(),
            lead_kind=lead or "finding",
            lead_ref=f"indicator:{selected}" if lead == "finding" and selected else None,
            case_id=None,
        )
    elif trig == ids.SUP_STEP:
        result, error = attempt(
            uses.take_step,
            ctx,
            who,
            case_id,
            kind=kind,
            note=(note or "").strip(),
            due_on=dt.date.fromisoformat(due) if due else None,
        )
    elif trig == ids.SUP_REPLY:
        result, error = attempt(uses.reply, ctx, who, case_id, accepted=accept == "yes", note=(note or "").strip())
    else:
        return no_update, no_update
    if error is not None:
        return html.Span(explain(error, lang), className="lg-error"), no_update
    words = t("sup.done", lang).format(no=result["case_no"], status=t(f"sup.status.{result['status']}", lang))
    return words, (tick or 0) + 1


def trend_chart(period, selected, lang):
    who = require("supervision.view")
    key = selected or DEFAULT_INDICATOR
    ind = engine.describe(engine.indicator(key))
    points, error = attempt(uses.trend, services(), who, key, period=period or "")
    if error is not None:
        return go.Figure(layout=DARK)
    return go.Figure(
        go.Scatter(
            x=[p["month"] for p in points],
            y=[p["value"] for p in points],
            mode="lines+markers",
            line_color=NEUTRAL,
            hovertemplate="%{x}: %{y}<extra></extra>",
        ),
        layout=dict(
            DARK,
            title=t("sup.trend_title", lang).format(name=_name(ind, lang)),
            height=240,
            xaxis=dict(type="category"),
        ),
    )
