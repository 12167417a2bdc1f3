"""设备与轨迹 page: pick an officer's terminal or body camera and a window, replay the
track with a slider, play/pause and speed, and see the stops found along it."""

from __future__ import annotations

import datetime as dt

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import current_scope
from dashboard.components.maps import map_panel
from dashboard.context import attempt, services
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from geo.infra.timezone import BEIJING
from geo.places import queries
from geo.telemetry import fleet
from geo.telemetry.tracks import find_stops
from services import telemetry as telemetry_uses

SPEEDS = (1, 4, 16, 60)
MAX_WINDOW = dt.timedelta(days=31)


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/devices", name="devices", layout=layout)
    app.callback(
        Output(ids.REPLAY_TRACK, "data"),
        Output(ids.REPLAY_LINE, "positions"),
        Output(ids.REPLAY_STOPS, "children"),
        Output(ids.REPLAY_SLIDER, "max"),
        Output(ids.REPLAY_SLIDER, "value"),
        Output(ids.REPLAY_SUMMARY, "children"),
        Output(ids.REPLAY_MAP, "viewport"),
        Input(ids.REPLAY_LOAD, "n_clicks"),
        State(ids.REPLAY_DEVICE, "value"),
        State(ids.REPLAY_START, "value"),
        State(ids.REPLAY_END, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(load_track)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="replayToggle"),
        Output(ids.REPLAY_TIMER, "disabled"),
        Output(ids.REPLAY_PLAY, "className"),
        Output(ids.REPLAY_PLAY, "children", allow_duplicate=True),
        Input(ids.REPLAY_PLAY, "n_clicks"),
        State(ids.REPLAY_TIMER, "disabled"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="replayTick"),
        Output(ids.REPLAY_SLIDER, "value", allow_duplicate=True),
        Output(ids.REPLAY_TIMER, "disabled", allow_duplicate=True),
        Output(ids.REPLAY_PLAY, "children", allow_duplicate=True),
        Input(ids.REPLAY_TIMER, "n_intervals"),
        State(ids.REPLAY_SLIDER, "value"),
        State(ids.REPLAY_SLIDER, "max"),
        State(ids.REPLAY_SPEED, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="replayShow"),
        Output(ids.REPLAY_MARKER, "center"),
        Output(ids.REPLAY_TIME, "children"),
        Input(ids.REPLAY_SLIDER, "value"),
        State(ids.REPLAY_TRACK, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.DEVICES_HEADING, "children"),
        Output(ids.REPLAY_DEVICE, "placeholder"),
        Output(ids.REPLAY_START_LABEL, "children"),
        Output(ids.REPLAY_END_LABEL, "children"),
        Output(ids.REPLAY_LOAD, "children"),
        Output(ids.REPLAY_PLAY, "children"),
        Output(ids.REPLAY_SPEED_LABEL, "children"),
        Input(ids.LANG, "data"),
    )(translate)


def layout(**_query):
    scope = current_scope()
    with _runtime().session() as session:
        devices = fleet.devices(session, scope)
        townships = queries.townships_geojson(session, simplify_m=30)
    now = dt.datetime.now(BEIJING).replace(second=0, microsecond=0)
    options = [
        {"label": f"{d['officer']} · {t('kind.' + d['kind'])} · {d['identifier']}", "value": d["id"]} for d in devices
    ]
    return html.Div(
        className="lg-body",
        children=[
            map_panel(
                ids.REPLAY_MAP,
                dl.GeoJSON(data=townships, style={"color": "#8da9c4", "weight": 1, "fillOpacity": 0.08}),
                dl.Polyline(id=ids.REPLAY_LINE, positions=[], color="#3a86ff", weight=4),
                dl.LayerGroup(id=ids.REPLAY_STOPS),
                dl.CircleMarker(
                    id=ids.REPLAY_MARKER,
                    center=[0, 0],
                    radius=9,
                    color="#ffffff",
                    fillColor="#d62828",
                    fillOpacity=1,
                    weight=2,
                ),
                center=[39.0, 117.65],
                zoom=10,
                maxZoom=19,
            ),
            html.Div(
                className="lg-side",
                children=[
                    html.H2(id=ids.DEVICES_HEADING, children=t("devices.heading"), style={"fontSize": "16px"}),
                    html.Div(
                        className="lg-panel",
                        style={"color": "#1f2d3d"},
                        children=[
                            dcc.Dropdown(
                                id=ids.REPLAY_DEVICE,
                                options=options,
                                placeholder=t("devices.device"),
                                value=_default_device(devices),
                            ),
                            html.Label(
                                id=ids.REPLAY_START_LABEL, children=t("devices.start"), style={"color": "#e6edf6"}
                            ),
                            dcc.Input(
                                id=ids.REPLAY_START,
                                type="datetime-local",
                                value=(now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
                            ),
                            html.Label(id=ids.REPLAY_END_LABEL, children=t("devices.end"), style={"color": "#e6edf6"}),
                            dcc.Input(
                                id=ids.REPLAY_END,
                                type="datetime-local",
                                value=(now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                            ),
                            html.Button(
                                id=ids.REPLAY_LOAD,
                                className="lg-lang",
                                children=t("devices.load"),
                                style={"marginLeft": "8px"},
                            ),
                        ],
                    ),
                    html.Div(
                        className="lg-panel",
                        children=[
                            html.Div(id=ids.REPLAY_SUMMARY, className="lg-note", children=t("devices.pick")),
                            dcc.Slider(
                                id=ids.REPLAY_SLIDER,
                                min=0,
                                max=0,
                                step=1,
                                value=0,
                                marks=None,
                                tooltip={"always_visible": False},
                            ),
                            html.Div(
                                style={"display": "flex", "gap": "8px", "alignItems": "center"},
                                children=[
                                    html.Button(id=ids.REPLAY_PLAY, className="lg-lang", children=t("devices.play")),
                                    html.Span(id=ids.REPLAY_SPEED_LABEL, children=t("devices.speed")),
                                    dcc.Dropdown(
                                        id=ids.REPLAY_SPEED,
                                        value=4,
                                        clearable=False,
                                        style={"width": "90px", "color": "#1f2d3d"},
                                        options=[{"label": f"{s}×", "value": s} for s in SPEEDS],
                                    ),
                                    html.Span(id=ids.REPLAY_TIME, className="lg-note"),
                                ],
                            ),
                        ],
                    ),
                    dcc.Interval(id=ids.REPLAY_TIMER, interval=250, disabled=True),
                    dcc.Store(id=ids.REPLAY_TRACK),
                ],
            ),
        ],
    )


def _default_device(devices: list[dict]):
    """The device that reported last, so the page opens on something worth replaying."""
    moving = [d for d in devices if d.get("fix_time")]
    return max(moving, key=lambda d: d["fix_time"])["id"] if moving else None


def _window(start: str | None, end: str | None) -> tuple[dt.datetime, dt.datetime] | None:
    if not start or not end:
        return None
    try:
        s = dt.datetime.fromisoformat(start).replace(tzinfo=BEIJING)
        e = dt.datetime.fromisoformat(end).replace(tzinfo=BEIJING)
    except (TypeError, ValueError):
        return None
    return (s, e) if s < e and e - s <= MAX_WINDOW else None


def load_track(_clicks, device_id, start, end, lang):
    nothing = ([], [], 0, 0)
    window = _window(start, end)
    if device_id is None:
        return (None, *nothing, t("devices.pick", lang), dash.no_update)
    if window is None:
        return (None, *nothing, t("devices.bad_window", lang), dash.no_update)
    doc, error = attempt(telemetry_uses.track, services(), current_scope(), int(device_id), *window, via="replay")
    if error is not None:  # not a device of the caller's scope
        return (None, *nothing, t("devices.pick", lang), dash.no_update)
    points = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
    if not points:
        return (None, *nothing, t("devices.empty", lang), dash.no_update)
    fixes = [(dt.datetime.fromisoformat(p["properties"]["time"]), *p["geometry"]["coordinates"]) for p in points]
    track = [
        [lat, lon, when.astimezone(BEIJING).strftime("%H:%M:%S"), p["properties"].get("speed_kmh")]
        for (when, lon, lat), p in zip(fixes, points, strict=True)
    ]
    stops = find_stops(fixes)
    minutes = t("devices.minutes", lang)
    stop_markers = [
        dl.CircleMarker(
            center=[s["lat"], s["lon"]],
            radius=7,
            color="#ff9f1c",
            fillOpacity=0.8,
            children=dl.Tooltip(
                f"{t('devices.stops', lang)} {i + 1}: "
                f"{dt.datetime.fromisoformat(s['start']).astimezone(BEIJING):%H:%M}"
                f" · {s['duration_s'] // 60} {minutes}"
            ),
        )
        for i, s in enumerate(stops)
    ]
    lats, lons = [r[0] for r in track], [r[1] for r in track]
    viewport = {"bounds": [[min(lats), min(lons)], [max(lats), max(lons)]], "transition": "flyToBounds"}
    summary = t("devices.summary", lang).format(len(track), len(stops))
    return track, [[r[0], r[1]] for r in track], stop_markers, len(track) - 1, 0, summary, viewport


def translate(lang):
    return (
        t("devices.heading", lang),
        t("devices.device", lang),
        t("devices.start", lang),
        t("devices.end", lang),
        t("devices.load", lang),
        t("devices.play", lang),
        t("devices.speed", lang),
    )
