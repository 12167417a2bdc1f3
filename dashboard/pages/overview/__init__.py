"""The command map: townships coloured by target counts, the targets layer (cells when zoomed
out, targets when zoomed in) under township, domain, risk and text filters, the live layer
of officers and cameras, the alarm panel and target cards.

The page in three modules: layout (the map, its filter bar and translation), layers (what
the filters and the heat map draw), card (a target's card and the task raised from it)."""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State

from dashboard import alarm_panel, ids, live_panel
from dashboard.pages.overview.card import create_from_card, show_target_card
from dashboard.pages.overview.layers import alarm_heat, devices_on_task, filter_townships, fly_to_search
from dashboard.pages.overview.layout import layout, translate_overview

FILTERS = [Input(ids.F_TOWNSHIP, "value"), Input(ids.F_DOMAIN, "value"), Input(ids.F_RISK, "value")]


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/", name="overview", layout=layout)
    # Live positions never pass through Python: socket -> clientside -> markers moved in place.
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="socketState"),
        Output(ids.LIVE_SOCKET_STATE, "data"),
        Input(ids.LIVE_SOCKET, "connected"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="applyPositions"),
        Output(ids.LIVE_APPLIED, "data"),
        Input(ids.LIVE_SOCKET, "data-positions"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="applyPositions"),
        Output(ids.LIVE_APPLIED, "data", allow_duplicate=True),
        Input(ids.LIVE_INITIAL, "data"),
        prevent_initial_call="initial_duplicate",
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setOnTask"),
        Output(ids.LIVE_ON_TASK_APPLIED, "data"),
        Input(ids.LIVE_ON_TASK, "data"),
    )
    app.callback(
        Output(ids.LIVE_ON_TASK, "data"), Input(ids.LIVE_SOCKET, "data-inspection"), prevent_initial_call=True
    )(devices_on_task)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="setFollow"),
        Output(ids.LIVE_FOLLOW, "className"),
        Input(ids.LIVE_FOLLOW, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="targetsUrl"),
        Output(ids.TARGETS_LAYER, "url"),
        Input(ids.OVERVIEW_MAP, "bounds"),
        Input(ids.OVERVIEW_MAP, "zoom"),
        *FILTERS,
        Input(ids.F_Q, "value"),
        State(ids.OVERVIEW_MAP, "center"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="zoomIntoCell"),
        Output(ids.OVERVIEW_MAP, "viewport", allow_duplicate=True),
        Input(ids.TARGETS_LAYER, "clickData"),
        State(ids.OVERVIEW_MAP, "zoom"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.OVERVIEW_MAP, "viewport", allow_duplicate=True),
        Input(ids.F_Q, "value"),
        *FILTERS,
        prevent_initial_call=True,
    )(fly_to_search)
    app.callback(Output(ids.TARGET_CARD, "children"), Input(ids.TARGETS_LAYER, "clickData"), Input(ids.LANG, "data"))(
        show_target_card
    )
    app.callback(
        Output(ids.TOWNSHIP_LAYER, "hideout"),
        Output(ids.TOWNSHIP_LEGEND, "children"),
        Output(ids.TOWNSHIP_FIGURE, "data"),
        *FILTERS,
        Input(ids.F_COLOUR, "value"),
        Input(ids.LANG, "data"),
        State(ids.TOWNSHIP_LAYER, "hideout"),
    )(filter_townships)
    app.callback(
        Output(ids.OVERVIEW_HEADING, "children"),
        Output(ids.OVERVIEW_APPROXIMATE, "children"),
        Output(ids.CARD_TARGETS_LABEL, "children"),
        Output(ids.CARD_UNITS_LABEL, "children"),
        Output(ids.CARD_OFFICERS_LABEL, "children"),
        Output(ids.CARD_DEVICES_LABEL, "children"),
        Output(ids.F_TOWNSHIP, "placeholder"),
        Output(ids.F_DOMAIN, "placeholder"),
        Output(ids.F_DOMAIN, "options"),
        Output(ids.F_RISK, "options"),
        Output(ids.F_Q, "placeholder"),
        Output(ids.F_HEAT, "options"),
        Output(ids.F_HEAT, "placeholder"),
        Output(ids.LIVE_FOLLOW, "options"),
        Output(ids.F_COLOUR, "options"),
        Input(ids.LANG, "data"),
    )(translate_overview)
    app.callback(
        Output(ids.HEAT_LAYER, "data"),
        Output(ids.HEAT_LAYER, "hideout"),
        Input(ids.F_HEAT, "value"),
        Input(ids.LIVE_SOCKET, "data-alarm"),
    )(alarm_heat)
    app.callback(
        Output(ids.CARD_CREATE_RESULT, "children"),
        Input(ids.CARD_CREATE, "n_clicks"),
        State(ids.CARD_TARGET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(create_from_card)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="showChart"),
        Output(ids.TOWNSHIP_CHART_SLOT, "children"),
        Input(ids.TOWNSHIP_FIGURE, "data"),
    )
    alarm_panel.register(app, map_id=ids.OVERVIEW_MAP)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="placeCard"),
        Output(ids.TARGET_CARD_FLOAT, "style"),
        Input(ids.TARGETS_LAYER, "clickData"),
        Input(ids.CARD_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    live_panel.register(app)
