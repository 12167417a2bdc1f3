"""工作日历 (/calendar), for administrators: how far the State Council's holiday schedule is loaded,
the provisional days after it and next year's provisional statutory holidays; the next year's
schedule imported from a file (each bad line named, the good ones entered, every deadline on
provisional days recomputed)."""

from __future__ import annotations

import base64
import binascii

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import ids
from dashboard.auth import require
from dashboard.components.tables import data_table
from dashboard.context import attempt, services
from dashboard.i18n import t
from geo.infra.errors import explain
from services import calendar as calendar_uses

MAX_FILE_BYTES = 200_000


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/calendar", name="calendar", layout=layout)
    app.callback(
        Output(ids.CALENDAR_RESULT, "children"),
        Output(ids.CALENDAR_STATUS, "children"),
        Input(ids.CALENDAR_UPLOAD, "contents"),
        State(ids.CALENDAR_UPLOAD, "filename"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(import_schedule)


def layout(**_query):
    who = require("calendar.manage")
    status = calendar_uses.status(services(), who)
    return html.Div(
        className="lg-page",
        children=[
            html.H2(t("calendar.heading"), style={"fontSize": "16px"}),
            html.Div(id=ids.CALENDAR_STATUS, children=_status(status, "zh")),
            dcc.Upload(
                id=ids.CALENDAR_UPLOAD,
                className="lg-upload",
                max_size=MAX_FILE_BYTES,
                children=html.Button(t("calendar.upload"), className="lg-btn"),
            ),
            html.Div(id=ids.CALENDAR_RESULT, className="lg-message"),
            html.H3(t("calendar.holidays").format(year=status["provisional_year"]), style={"fontSize": "14px"}),
            data_table(
                "calendar-holidays",
                columns=[{"name": t("col.day"), "id": "day"}, {"name": t("col.holiday"), "id": "name"}],
                data=status["provisional_holidays"],
            ),
        ],
    )


def _status(status: dict, lang: str | None) -> list:
    parts = [
        html.P(
            t("calendar.status", lang).format(
                official=status["official_through"] or "—", provisional=status["provisional_through"] or "—"
            ),
            id="calendar-reach",
        )
    ]
    if status["next_year_missing"]:
        parts.append(html.P(t("calendar.missing", lang).format(year=status["next_year"]), className="lg-error"))
    return parts


def import_schedule(contents, filename, lang):
    who = require("calendar.manage")
    if not contents:
        return no_update, no_update
    try:
        data = base64.b64decode(contents.split(",", 1)[1]).decode("utf-8-sig")
    except (IndexError, binascii.Error, UnicodeDecodeError):
        return html.Span(t("calendar.rejected", lang) + (filename or ""), className="lg-error"), no_update
    result, error = attempt(calendar_uses.import_csv, services(), who, data, f"导入 {filename or '文件'}")
    if error is not None:
        return html.Span(explain(error, lang), className="lg-error"), no_update
    said = [html.P(t("calendar.imported", lang).format(n=result["updated"], official=result.get("official_through")))]
    if result["rejected"]:
        said.append(html.P(t("calendar.rejected", lang) + "；".join(result["rejected"][:20]), className="lg-error"))
    return said, _status(calendar_uses.status(services(), who), lang)
