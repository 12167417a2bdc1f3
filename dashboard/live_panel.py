"""What the command map explains and finds: a legend for every layer (target domains, device
states, on task, SOS, alarms, a camera not recording), the selected officer's name, unit,
device kind, state and a live "last fix n s ago", and a finder that flies to an officer or a
device by name or number. The finding and the clock run in the browser (lawgrid-04-map.js)
from the devices' names, fetched (GET /api/devices/names) when first needed, not with the
page: the map must be usable before thousands of names arrive."""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, dcc, html

from dashboard import ids, palette
from dashboard.i18n import t


def stores() -> list:
    return [dcc.Store(id=ids.LIVE_COLORS, data=palette.LIVE_COLORS), dcc.Store(id=ids.LIVE_META_APPLIED)]


def finder():
    return html.Span(
        className="lg-finder",
        children=[
            dcc.Input(id=ids.LIVE_FIND, type="search", debounce=True, placeholder=t("live.find")),
            html.Span(id=ids.LIVE_FIND_RESULT, className="lg-note"),
        ],
    )


def legend(domains: list[dict], lang: str) -> list:
    colors = palette.domain_colors(domains)
    chip = lambda colour, label, cls="": html.Span(  # noqa: E731
        [html.I(className=f"lg-swatch {cls}", style={"background": colour}), label], className="lg-chip"
    )
    states = [chip(palette.LIVE_COLORS[s], t(f"legend.live.{s}", lang), "round") for s in palette.LIVE_STATES]
    return [
        html.Summary(t("legend.heading", lang)),
        html.Div(t("legend.targets", lang), className="lg-legend-title"),
        html.Div([chip(colors[d["key"]], d["en" if lang == "en" else "zh"]) for d in domains], className="lg-chips"),
        html.Div(t("legend.live", lang), className="lg-legend-title"),
        html.Div(states, className="lg-chips"),
        html.Div([chip("#ffffff", t("legend.recording_off", lang), "round ring")], className="lg-chips"),
    ]


def register(app: dash.Dash) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setLiveColors"),
        Output(ids.LIVE_META_APPLIED, "data"),
        Input(ids.LIVE_COLORS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="findLive"),
        Output(ids.LIVE_FIND_RESULT, "children"),
        Output(ids.OVERVIEW_MAP, "viewport", allow_duplicate=True),
        Input(ids.LIVE_FIND, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.MAP_LEGEND, "children"),
        Output(ids.LIVE_FIND, "placeholder"),
        Input(ids.LANG, "data"),
        Input(ids.DOMAIN_NAMES, "data"),
    )(translate)


def translate(lang, domains):
    return legend(domains or [], lang or "zh"), t("live.find", lang or "zh")
