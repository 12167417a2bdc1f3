"""The alarm panel of the command map: every live alarm, most severe first (SOS always on top
and never cut off), one row per device and kind with its count and first and last report,
naming the officer, unit, device kind and township; counts by kind; a banner for the most
severe unacknowledged alarm that can be dismissed until the next SOS. Acknowledge acts on
the row's own alarm id; resolve asks for its comment first. While the pointer is over the
list, new alarms wait (lawgrid-04-map.js), so rows never move under a click."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import current_scope
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.access import policy
from geo.access.accounts import Scope
from geo.infra.errors import explain
from geo.infra.timezone import BEIJING
from geo.telemetry import fleet
from services import alarms as alarm_uses

RESYNC_MS = 15_000


def panel(live: dict, scope: Scope | None):
    return html.Div(
        className="lg-panel lg-alarm-panel",
        id=ids.ALARM_PANEL,
        children=[
            html.H3(id=ids.ALARMS_HEADING, children=heading(live, "zh")),
            html.Div(id=ids.ALARM_COUNTS, className="lg-alarm-counts", children=counts(live, "zh")),
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
            html.Div(id=ids.ALARM_LIST, className="lg-alarm-list", children=alarm_rows(live, "zh", scope, None)),
            dcc.Store(id=ids.ALARM_DATA, data=live["rows"]),
            dcc.Store(id=ids.ALARM_RESOLVING),
            dcc.Store(id=ids.ALARM_ACT),
            dcc.Store(id=ids.ALARM_TICK),
            # The safety net under the live push: a push lost while the socket reconnected
            # never hides an alarm for longer than this (the list also redraws on reconnect).
            dcc.Interval(id=ids.ALARM_RESYNC, interval=RESYNC_MS),
            dcc.Store(id=ids.ALARM_DISMISSED),
            dcc.Store(id=ids.ALARM_PAINTED),
        ],
    )


def banner_strip():
    """The banner's place: a strip of its own above the map, so it never covers a control."""
    return html.Div(
        id=ids.ALARM_BANNER,
        className="lg-banner",
        style={"display": "none"},
        children=[
            html.Span(id=ids.ALARM_BANNER_TEXT),
            html.Button("×", id=ids.ALARM_DISMISS, className="lg-banner-close", title=t("alarms.dismiss")),
        ],
    )


def heading(live: dict, lang: str) -> str:
    return f"{t('alarms.heading', lang)}（{live['total']:,}）" if live["total"] else t("alarms.heading", lang)


def counts(live: dict, lang: str) -> list:
    return [
        html.Span(
            f"{_kind(kind, lang)} {c['live']:,}",
            className=f"lg-alarm-count kind-{kind}",
            title=t("alarms.open_of", lang).format(open=c["open"], live=c["live"]),
        )
        for kind, c in live["counts"].items()
    ]


def _kind(kind: str, lang: str) -> str:
    return t(f"alarm.{kind}", lang) if f"alarm.{kind}" in _KINDS else kind


def _time(value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(BEIJING).strftime("%m-%d %H:%M:%S")


def alarm_rows(live: dict, lang: str, scope: Scope | None, resolving: int | None, note: str | None = None) -> list:
    if not live["rows"]:
        return [html.P(t("alarms.none", lang), className="lg-note")]
    can_act = policy.allowed(scope, "alarm.act")
    rows = [_row(a, lang, can_act, resolving == a["id"], note) for a in live["rows"]]
    hidden = live["total"] - len(live["rows"])
    if hidden > 0:
        rows.append(html.P(t("alarms.more", lang).format(hidden), className="lg-note"))
    return rows


def _row(a: dict, lang: str, can_act: bool, resolving: bool, note: str | None = None):
    who = a.get("officer") or f"{t('alarms.device', lang)} {a['identifier']}"
    device_kind = t(f"kind.{a['device_kind']}", lang) if f"kind.{a['device_kind']}" in _DEVICE_KINDS else ""
    where = " · ".join(x for x in (a.get("unit"), device_kind, a.get("place")) if x)
    when = _time(a["at"])
    if a["repeats"] > 1:
        when += f" – {_time(a['last_at'])} · " + t("alarms.repeats", lang).format(a["repeats"])
    controls: list = []
    if can_act and resolving:
        controls = [
            dcc.Input(
                id={"type": ids.ALARM_RESOLVE_NOTE, "id": a["id"]},
                type="text",
                placeholder=t("alarms.resolve_note", lang),
                value=note or "",
                className="lg-alarm-note",
            ),
            _button("resolve", a["id"], t("alarms.resolve_confirm", lang)),
            _button("cancel", a["id"], t("alarms.cancel", lang)),
        ]
    elif can_act:
        if a["status"] == "open":
            controls.append(_button("ack", a["id"], t("alarms.ack", lang)))
        controls.append(_button("ask", a["id"], t("alarms.resolve", lang)))
    return html.Div(
        className=f"lg-alarm {a['status']} kind-{a['kind']}",
        id={"type": ids.ALARM_ROW, "id": a["id"]},
        **{"data-alarm-id": str(a["id"]), "data-kind": a["kind"]},
        children=[
            html.Div(
                id={"type": ids.ALARM_LOCATE, "id": a["id"]},
                n_clicks=0,
                children=[
                    html.B(_kind(a["kind"], lang)),
                    " · ",
                    html.Span(who, className="lg-alarm-who"),
                    " · ",
                    html.Span(t(f"alarm.status.{a['status']}", lang), className="lg-alarm-status"),
                    html.Div(where, className="lg-alarm-where"),
                    html.Div(when, className="lg-alarm-when"),
                ],
            ),
            html.Div(controls),
        ],
    )


def _button(action: str, alarm_id: int, label: str):
    # No component id: a click is caught by one listener (lawgrid-04-map.js) and written to the
    # ALARM_ACT store, so redrawing the rows never re-fires, or cancels, a click in flight.
    data: Any = {"data-action": action, "data-alarm-id": str(alarm_id)}
    return html.Button(label, className="lg-lang", **data)


_KINDS = {f"alarm.{k}" for k in fleet.ALARM_SEVERITY}
_DEVICE_KINDS = {"kind.terminal", "kind.body_camera"}


def banner(live: dict, dismissed: dict | None, lang: str) -> tuple[str, dict]:
    """The most severe unacknowledged alarm (the newest of its kind: the one that just came
    in), unless dismissed and no SOS has come since."""
    unacknowledged = [a for a in live["rows"] if a["status"] == "open"]
    if not unacknowledged:
        return "", {"display": "none"}
    worst = unacknowledged[0]["kind"]
    top = max((a for a in unacknowledged if a["kind"] == worst), key=lambda a: (a["at"], a["id"]))
    newest_sos = max((a["id"] for a in live["rows"] if a["kind"] == "sos" and a["status"] == "open"), default=0)
    if dismissed and newest_sos <= int(dismissed.get("sos") or 0):
        return "", {"display": "none"}
    who = top.get("officer") or f"{t('alarms.device', lang)} {top['identifier']}"
    parts = [_kind(top["kind"], lang), who, top.get("unit"), top.get("place"), _time(top["at"])]
    more = sum(c["open"] for c in live["counts"].values()) - 1
    text = " · ".join(p for p in parts if p)
    if more > 0:
        text += " · " + t("alarms.banner_more", lang).format(more)
    colour = "#d62828" if top["kind"] == "sos" else "#b5179e"
    return text, {"display": "flex", "background": colour}


def register(app: dash.Dash, map_id: str) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="alarmTone"),
        Output(ids.ALARM_TICK, "data"),
        Input(ids.LIVE_SOCKET, "data-alarm"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="alarmResync"),
        Output(ids.ALARM_TICK, "data", allow_duplicate=True),
        Input(ids.ALARM_RESYNC, "n_intervals"),
        Input(ids.LIVE_SOCKET, "connected"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setAlarmed"),
        Output(ids.ALARM_PAINTED, "data"),
        Input(ids.ALARM_DATA, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="locateAlarm"),
        Output(map_id, "viewport", allow_duplicate=True),
        Input({"type": ids.ALARM_LOCATE, "id": ALL}, "n_clicks"),
        State(ids.ALARM_DATA, "data"),
        prevent_initial_call=True,
    )
    # Three callbacks, no output shared: Dash drops a callback's in-flight answer when the same
    # callback is asked again, so a click answered by the refresh was lost whenever a new alarm
    # arrived meanwhile. A click's answer (message, the row asking for its comment) and the
    # dismissal are written by callbacks of their own, and the refresh only draws.
    app.callback(
        Output(ids.ALARM_MESSAGE, "children"),
        Output(ids.ALARM_RESOLVING, "data"),
        Input(ids.ALARM_ACT, "data"),
        State(ids.LANG, "data"),
        State(ids.ALARM_COMMENT, "value"),
        State(ids.ALARM_RESOLVING, "data"),
        prevent_initial_call=True,
    )(act)
    app.callback(
        Output(ids.ALARM_DISMISSED, "data"),
        Input(ids.ALARM_DISMISS, "n_clicks"),
        State(ids.ALARM_DATA, "data"),
        prevent_initial_call=True,
    )(dismiss)
    app.callback(
        Output(ids.ALARM_LIST, "children"),
        Output(ids.ALARM_DATA, "data"),
        Output(ids.ALARMS_HEADING, "children"),
        Output(ids.ALARM_COUNTS, "children"),
        Output(ids.ALARM_COMMENT, "placeholder"),
        Output(ids.ALARM_BANNER_TEXT, "children"),
        Output(ids.ALARM_BANNER, "style"),
        Input(ids.ALARM_TICK, "data"),
        Input(ids.ALARM_RESOLVING, "data"),
        Input(ids.ALARM_DISMISSED, "data"),
        Input(ids.LANG, "data"),
        State({"type": ids.ALARM_RESOLVE_NOTE, "id": ALL}, "value"),
    )(refresh)


def act(click, lang, comment, resolving):
    """A click on a row's button ({"action", "id", "note": the row's typed comment}):
    acknowledge, ask for the resolve comment, cancel, resolve. The answer names the refused
    rule; the store it writes ({"id": row asking, "at": time}) makes the list redraw."""
    if not click or click.get("action") not in ("ack", "ask", "cancel", "resolve"):
        raise dash.exceptions.PreventUpdate
    alarm_id, action = int(click["id"]), click["action"]
    asking = (resolving or {}).get("id")
    message = dash.no_update
    if action == "ask":
        asking = alarm_id
    elif action == "cancel":
        asking = None
    else:
        if action == "resolve":
            comment = click.get("note") or ""
        _, error = attempt(alarm_uses.act, services(), current_scope(), alarm_id, action, comment or "")
        message = explain(error, lang) if error else ""
        if error and action == "resolve" and not (comment or "").strip():
            message = t("alarms.resolve_needs_note", lang)
        if error:  # nothing changed: no redraw, which would wipe a comment being typed
            return message, dash.no_update
        if action == "resolve":
            asking = None
    return message, {"id": asking, "at": dt.datetime.now().timestamp()}


def dismiss(_clicks, shown):
    """Hide the banner until an SOS newer than those shown now comes in."""
    newest_sos = max((a["id"] for a in shown or [] if a["kind"] == "sos" and a["status"] == "open"), default=0)
    return {"sos": newest_sos}


def refresh(_tick, resolving, dismissed, lang, _notes):  # noqa: ARG001 (read via ctx)
    scope = current_scope()
    with _runtime().session() as session:
        live = fleet.live_alarms(session, scope)
    asking = (resolving or {}).get("id")
    text, style = banner(live, dismissed, lang)
    return (
        alarm_rows(live, lang, scope, asking, _note_for(asking) if asking else None),
        live["rows"],
        heading(live, lang),
        counts(live, lang),
        t("alarms.comment", lang),
        text,
        style,
    )


def _note_for(alarm_id: int) -> str | None:
    """The resolve comment typed in that alarm's own row, kept across a redraw."""
    for state in dash.ctx.states_list[0]:
        if state["id"]["id"] == alarm_id:
            return state.get("value") or ""
    return None
