"""The alarm panel of the command map: live alarms newest first, a tone and a banner when
one arrives, click to centre the map, acknowledge and resolve in place (audited)."""

from __future__ import annotations

import datetime as dt

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard import ids
from dashboard.alarms import act_on_alarm
from dashboard.auth import current_scope
from dashboard.i18n import t
from dashboard.rest import attempt, explain
from dashboard.rest import runtime as _runtime
from geo import fleet, policy
from geo.accounts import Scope
from geo.timezone import BEIJING


def panel(alarms: list[dict], scope: Scope | None):
    return html.Div(
        className="lg-panel",
        id=ids.ALARM_PANEL,
        children=[
            html.H3(id=ids.ALARMS_HEADING, children=t("alarms.heading")),
            dcc.Input(
                id=ids.ALARM_COMMENT,
                type="text",
                placeholder=t("alarms.comment"),
                style={
                    "width": "100%",
                    "marginBottom": "6px",
                    "display": "block" if policy.allowed(scope, "alarm.act") else "none",
                },
            ),
            html.Div(id=ids.ALARM_MESSAGE, className="lg-note"),
            html.Div(id=ids.ALARM_LIST, children=alarm_rows(alarms, "zh", scope)),
            dcc.Store(id=ids.ALARM_DATA, data=_live(alarms)),
        ],
    )


def _live(alarms: list[dict]) -> list[dict]:
    return [a for a in alarms if a["status"] != "resolved"]


def live_alarms(session, scope: Scope) -> list[dict]:
    """Open and acknowledged alarms, newest first."""
    rows = fleet.alarms(session, scope, "open", 100) + fleet.alarms(session, scope, "acknowledged", 100)
    return sorted(rows, key=lambda a: (a["at"], a["id"]), reverse=True)


def alarm_rows(alarms: list[dict], lang: str, scope: Scope | None) -> list:
    live = _live(alarms)
    if not live:
        return [html.P(t("alarms.none", lang), className="lg-note")]
    can_act = policy.allowed(scope, "alarm.act")
    rows = []
    for a in live:
        when = dt.datetime.fromisoformat(a["at"]).astimezone(BEIJING).strftime("%m-%d %H:%M:%S")
        kind = t(f"alarm.{a['kind']}", lang) if f"alarm.{a['kind']}" in _KINDS else a["kind"]
        buttons = []
        if can_act:
            if a["status"] == "open":
                buttons.append(
                    html.Button(
                        t("alarms.ack", lang),
                        className="lg-lang",
                        id={"type": ids.ALARM_ACT, "action": "ack", "id": a["id"]},
                    )
                )
            buttons.append(
                html.Button(
                    t("alarms.resolve", lang),
                    className="lg-lang",
                    id={"type": ids.ALARM_ACT, "action": "resolve", "id": a["id"]},
                )
            )
        rows.append(
            html.Div(
                className=f"lg-alarm {a['status']}",
                children=[
                    html.Div(
                        id={"type": ids.ALARM_LOCATE, "id": a["id"]},
                        n_clicks=0,
                        children=[
                            html.B(kind),
                            f" · {a.get('officer') or '#' + str(a['device_id'])} · {when} · ",
                            html.Span(t(f"alarm.status.{a['status']}", lang), className="lg-alarm-status"),
                        ],
                    ),
                    html.Div(buttons),
                ],
            )
        )
    return rows


_KINDS = {
    f"alarm.{k}"
    for k in ("sos", "overspeed", "low_battery", "power_loss", "recording_stopped", "storage_full", "offline")
}


def register(app: dash.Dash, map_id: str) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="alarmAlert"),
        Output(ids.ALARM_BANNER, "children"),
        Output(ids.ALARM_BANNER, "style"),
        Input(ids.LIVE_SOCKET, "data-alarm"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="locateAlarm"),
        Output(map_id, "viewport", allow_duplicate=True),
        Input({"type": ids.ALARM_LOCATE, "id": ALL}, "n_clicks"),
        State(ids.ALARM_DATA, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.ALARM_LIST, "children"),
        Output(ids.ALARM_DATA, "data"),
        Output(ids.ALARM_MESSAGE, "children"),
        Output(ids.ALARMS_HEADING, "children"),
        Output(ids.ALARM_COMMENT, "placeholder"),
        Input(ids.LIVE_SOCKET, "data-alarm"),
        Input({"type": ids.ALARM_ACT, "action": ALL, "id": ALL}, "n_clicks"),
        Input(ids.LANG, "data"),
        State(ids.ALARM_COMMENT, "value"),
    )(refresh)


def refresh(_alarm, clicks, lang, comment):
    scope = current_scope()
    message = ""
    trigger = dash.ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == ids.ALARM_ACT and any(clicks or []):
        _, error = attempt(act_on_alarm, scope, int(trigger["id"]), trigger["action"], comment or "")
        message = explain(error, lang) if error else ""
    with _runtime().session() as session:
        alarms = live_alarms(session, scope)
    return (
        alarm_rows(alarms, lang, scope),
        _live(alarms),
        message,
        t("alarms.heading", lang),
        t("alarms.comment", lang),
    )
