"""审计 page: the audit trail for auditors and administrators, filterable."""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import current_scope, require
from dashboard.i18n import t
from dashboard.rest import runtime as _runtime
from geo import audit, policy

ROLES = ("auditor", "admin")
COLUMNS = ("at", "actor", "action", "subject", "source", "detail")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/audit", name="audit", layout=layout)
    app.callback(
        Output(ids.AUDIT_TABLE, "data"),
        Output(ids.AUDIT_COUNT, "children"),
        Input(ids.AUDIT_ACTOR, "value"),
        Input(ids.AUDIT_ACTION, "value"),
        Input(ids.AUDIT_DAYS, "value"),
        Input(ids.LANG, "data"),
    )(filter_audit)


def layout(**_query):
    scope = current_scope()
    if not policy.allowed(scope, "audit.read"):
        return html.Div(className="lg-page", id=ids.AUDIT_DENIED, children=t("common.forbidden"))
    return html.Div(
        className="lg-page",
        children=[
            html.H2(id=ids.AUDIT_HEADING, children=t("audit.heading"), style={"fontSize": "16px"}),
            html.Div(
                className="lg-filters",
                children=[
                    dcc.Input(id=ids.AUDIT_ACTOR, placeholder=t("audit.actor"), debounce=True),
                    dcc.Input(id=ids.AUDIT_ACTION, placeholder=t("audit.action"), debounce=True),
                    dcc.Dropdown(
                        id=ids.AUDIT_DAYS,
                        value=7,
                        clearable=False,
                        style={"width": "160px"},
                        options=[{"label": f"{d} {t('audit.days')}", "value": d} for d in (1, 7, 30, 365)],
                    ),
                    html.Span(id=ids.AUDIT_COUNT, className="lg-note"),
                ],
            ),
            dash_table.DataTable(
                id=ids.AUDIT_TABLE,
                columns=[{"name": c, "id": c} for c in COLUMNS],
                page_size=25,
                style_table={"overflowX": "auto"},
                sort_action="native",
                style_cell={
                    "backgroundColor": "#13243d",
                    "color": "#e6edf6",
                    "fontSize": 12,
                    "textAlign": "left",
                    "maxWidth": 420,
                    "whiteSpace": "normal",
                },
                style_header={"backgroundColor": "#24406a", "fontWeight": "bold"},
            ),
        ],
    )


def filter_audit(actor, action, days, lang):
    require("audit.read")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=int(days or 7))
    with _runtime().session() as session:
        rows = audit.search(session, actor=actor or None, action=action or None, start=start, limit=1000)
    for row in rows:
        row["detail"] = str(row["detail"]) if row["detail"] else ""
    return rows, t("audit.count", lang).format(len(rows))
