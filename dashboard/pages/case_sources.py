"""案源 page (/cases/sources): open case sources with their verification clocks, a form to
register a complaint, report, transfer, assignment or monitoring lead, and the organ head's
filing form (立案: the unit's penalty item, two or more of its certified officers)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import ids
from dashboard.auth import require
from dashboard.components.tables import data_table
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.cases import forms, machine, sources
from geo.infra.errors import explain
from geo.places import queries
from services import cases as case_uses

SOURCES_TABLE = "sources-table"
NEW_KIND, NEW_SUMMARY, NEW_REPORTER, NEW_PHONE, NEW_REAL, NEW_UNIT, NEW_SUBMIT = (
    "source-kind",
    "source-summary",
    "source-reporter",
    "source-phone",
    "source-real",
    "source-unit",
    "source-submit",
)
FILE_ACT_ON, FILE_ACT_CONTINUES = "file-act-on", "file-act-continues"
FILE_SOURCE, FILE_ITEM, FILE_OFFICERS, FILE_FACTS, FILE_MAJOR, FILE_SUBMIT = (
    "file-source",
    "file-item",
    "file-officers",
    "file-facts",
    "file-major",
    "file-submit",
)
SOURCES_MESSAGE, SOURCES_DONE, SOURCES_NEW = "sources-message", "sources-done", "sources-new"


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/cases/sources", name="case-sources", layout=layout)
    app.callback(
        Output(SOURCES_TABLE, "data"),
        Output(SOURCES_TABLE, "columns"),
        Input(SOURCES_DONE, "data"),
        Input(ids.LANG, "data"),
    )(show)
    app.callback(
        Output(FILE_SOURCE, "options"),
        Output(FILE_SOURCE, "value"),
        Input(FILE_SOURCE, "search_value"),
        Input(SOURCES_NEW, "data"),
        State(FILE_SOURCE, "value"),
        State(ids.LANG, "data"),
    )(source_options)
    app.callback(
        Output(FILE_ITEM, "options"),
        Output(FILE_OFFICERS, "options"),
        Input(FILE_SOURCE, "value"),
        prevent_initial_call=True,
    )(unit_choices)
    app.callback(
        Output(SOURCES_MESSAGE, "children"),
        Output(SOURCES_DONE, "data"),
        Output(SOURCES_NEW, "data"),
        Input(NEW_SUBMIT, "n_clicks"),
        State(NEW_KIND, "value"),
        State(NEW_SUMMARY, "value"),
        State(NEW_REPORTER, "value"),
        State(NEW_PHONE, "value"),
        State(NEW_REAL, "value"),
        State(NEW_UNIT, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(register_source)
    app.callback(
        Output(SOURCES_MESSAGE, "children", allow_duplicate=True),
        Output(SOURCES_DONE, "data", allow_duplicate=True),
        Input(FILE_SUBMIT, "n_clicks"),
        State(FILE_SOURCE, "value"),
        State(FILE_ITEM, "value"),
        State(FILE_OFFICERS, "value"),
        State(FILE_FACTS, "value"),
        State(FILE_MAJOR, "value"),
        State(FILE_ACT_ON, "date"),
        State(FILE_ACT_CONTINUES, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(file_source)


def layout(**_query):
    who = require("case.view")
    with _runtime().session() as session:
        units = queries.units(session, who)
    return html.Div(
        className="lg-page",
        children=[
            dcc.Store(id=SOURCES_DONE, data=0),
            dcc.Store(id=SOURCES_NEW),  # the source just registered: chosen for filing at once
            html.H2("案源 / Case sources", style={"fontSize": "16px"}),
            data_table(SOURCES_TABLE, page_size=15, sort_action="native", style_table={"overflowX": "auto"}),
            html.Div(id=SOURCES_MESSAGE, className="lg-message", role="status"),
            html.Section(
                style={} if policy.allowed(who, "case.source") else {"display": "none"},
                children=[
                    html.H3("登记案源 / Register a source", style={"fontSize": "14px"}),
                    dcc.Dropdown(
                        id=NEW_KIND,
                        value="complaint",
                        clearable=False,
                        options=["complaint", "report", "transfer", "assigned", "monitoring"],
                    ),
                    dcc.Dropdown(
                        id=NEW_UNIT,
                        options=[{"label": n, "value": i} for i, n in units],
                        value=units[0][0] if units else None,
                    ),
                    dcc.Textarea(id=NEW_SUMMARY, placeholder="summary", style={"width": "100%"}),
                    dcc.Input(id=NEW_REPORTER, placeholder="reporter"),
                    dcc.Input(id=NEW_PHONE, placeholder="phone"),
                    dcc.Checklist(id=NEW_REAL, options=[{"label": "实名 / real name", "value": "yes"}], value=[]),
                    html.Button("登记 / Register", id=NEW_SUBMIT, className="lg-button"),
                ],
            ),
            html.Section(
                style={} if policy.allowed(who, "case.approve") else {"display": "none"},
                children=[
                    html.H3("立案 / File a case", style={"fontSize": "14px"}),
                    dcc.Dropdown(
                        id=FILE_SOURCE,
                        placeholder="案源（输入当事人、地点或内容搜索）/ source: type a party, place or words",
                        search_value="",
                    ),
                    dcc.Dropdown(id=FILE_ITEM, placeholder="item (penalty power)"),
                    dcc.Dropdown(id=FILE_OFFICERS, multi=True, placeholder="officers (two or more)"),
                    dcc.Textarea(id=FILE_FACTS, placeholder="facts", style={"width": "100%"}),
                    html.Label("违法行为发生日 / day of the act", htmlFor=FILE_ACT_ON),
                    dcc.DatePickerSingle(id=FILE_ACT_ON, display_format="YYYY-MM-DD", first_day_of_week=1),
                    dcc.Checklist(
                        id=FILE_ACT_CONTINUES,
                        options=[{"label": "违法行为仍在持续（以发现之日计）/ the act continues", "value": "yes"}],
                        value=[],
                    ),
                    dcc.Checklist(id=FILE_MAJOR, options=[{"label": "重大案件 / major", "value": "yes"}], value=[]),
                    html.Button("立案 / File", id=FILE_SUBMIT, className="lg-button"),
                ],
            ),
        ],
    )


SOURCE_COLUMNS = ("id", "kind", "about", "summary", "status", "received_on", "verify_due", "accept_due")


def show(_done, lang):
    """The open sources, newest first, each saying what it is about, in the page's language."""
    who = require("case.view")
    with _runtime().session() as session:
        rows = sources.listing(session, who, "open", 500, order="newest")
    table = [
        {
            "id": r["id"],
            "kind": t(f"source.kind.{r['kind']}", lang),
            "about": _about(r),
            "summary": r["summary"],
            "status": t(f"source.status.{r['status']}", lang),
            "received_on": r["received_on"],
            "verify_due": r["verify_due"],
            "accept_due": r["accept_due"],
        }
        for r in rows
    ]
    return table, [{"name": t(f"col.source.{c}", lang), "id": c} for c in SOURCE_COLUMNS]


def _about(r: dict) -> str:
    """Who and where: the target (name, address, township), else the reporter."""
    reporter = (r.get("reporter") or {}).get("name")
    parts = [r.get("target_name"), r.get("target_address") or r.get("township"), reporter]
    return " · ".join(str(p) for p in parts if p) or "—"


def source_options(search, new_source, chosen, lang):
    """The sources to file from, newest first, found by party, place or words; each option says
    what it is (kind, who, where, the lead, the day); the one chosen stays listed, and one just
    registered is chosen."""
    who = require("case.view")
    if ctx.triggered_id == SOURCES_NEW and new_source:
        chosen, search = new_source, ""
    with _runtime().session() as session:
        rows = sources.listing(session, who, "open", 50, q=(search or "").strip() or None, order="newest")
        if chosen and all(r["id"] != chosen for r in rows):
            rows += [r for r in sources.listing(session, who, "open", 1, q=str(chosen)) if r["id"] == chosen]
    options = [
        {
            "label": f"#{r['id']} {t('source.kind.' + r['kind'], lang)} · {_about(r)} · {r['summary'][:30]} · "
            f"{r['received_on']}",
            "value": r["id"],
        }
        for r in rows
    ]
    return options, chosen


def unit_choices(source_id):
    who = require("case.view")
    if not source_id:
        return [], []
    with _runtime().session() as session:
        source = sources.load(session, who, int(source_id))
        items, officers = sources.filing_choices(session, int(source["unit_id"]))
    return (
        [{"label": f"{c} {n}", "value": c} for c, n in items],
        [{"label": f"{n}（{c}）", "value": i} for i, n, c in officers],
    )


def register_source(_clicks, kind, summary, reporter, phone, real, unit, lang):
    who = require("case.source")
    data = {
        "kind": kind,
        "unit_id": unit,
        "summary": summary or "",
        "reporter": {"name": reporter, "phone": phone, "real_name": bool(real)} if reporter or phone else None,
    }
    body, error = attempt(machine.validate, sources.NewSource, data)
    if error is None:
        body, error = attempt(case_uses.register_source, services(), who, body)
    if error is not None:
        return html.Div(explain(error, lang), className="lg-error"), no_update, no_update
    return html.Div(f"#{body['id']} ✓", id="source-ok"), body["id"], body["id"]  # ready to be filed


def file_source(_clicks, source_id, item, officers, facts, major, act_on, continues, lang):
    who = require("case.approve")
    data = {
        "source_id": source_id,
        "item_code": item,
        "officer_ids": officers or [],
        "facts": facts or "",
        "major": bool(major),
        "act_on": act_on,
        "act_continues": bool(continues),
        "act_continues_reason": "违法行为处于持续状态" if continues else None,
    }
    body, error = attempt(machine.validate, forms.NewCase, data)
    if error is None:
        body, error = attempt(case_uses.file_case, services(), who, body)
    if error is not None:
        return html.Div(explain(error, lang), className="lg-error", id="file-error"), no_update
    return dcc.Link(f"{body['case_no']} ✓", href=f"/case/{body['id']}", id="file-ok"), -int(body["id"])
