"""The command map's layout: the filter bar, the map with its layers, the panels, and their
translation."""

from __future__ import annotations

from html import escape

import dash_leaflet as dl
from dash import dcc, html
from dash_socketio import DashSocketIO

from dashboard import alarm_panel, choropleth, ids, live_panel, palette
from dashboard.auth import current_scope
from dashboard.components.filters import domain_dropdown, domain_options, risk_options, township_dropdown
from dashboard.components.maps import district_map
from dashboard.context import runtime as _runtime
from dashboard.i18n import t
from dashboard.pages.overview.card import _card, target_card_view
from dashboard.pages.overview.layers import heat_options, live_rows, township_chart
from geo.places import queries
from geo.telemetry import fleet


def layout(**_query):
    runtime = _runtime()
    scope = current_scope()
    with runtime.session() as session:
        townships = queries.townships_geojson(session, simplify_m=30)
        district = queries.district_geojson(session)
        counts = queries.registry_counts(session, scope)
        live_now = fleet.devices(session, scope)
        on_task = fleet.devices_on_task(session, scope)
        domains = queries.domains(session)
        alarms = fleet.live_alarms(session, scope)
    for feature in townships["features"]:
        p = feature["properties"]
        p["tooltip"] = f"{escape(p['name'])}（{escape(p['code'])}）<br>{p['targets']:,}"
    values = [f["properties"]["targets"] for f in townships["features"]]
    breaks = choropleth.breaks_for(values)
    minx, miny, maxx, maxy = choropleth.district_bounds(district)
    colors = palette.domain_colors(domains)
    return html.Div(
        className="lg-body",
        children=[
            html.Div(
                className="lg-map-wrap",
                children=[
                    filter_bar(townships, domains),
                    alarm_panel.banner_strip(),
                    district_map(
                        ids.OVERVIEW_MAP,
                        dl.GeoJSON(
                            id=ids.TOWNSHIP_LAYER,
                            data=townships,
                            style={"variable": "lawgrid.townshipStyle"},
                            hideout={"breaks": breaks, "colors": choropleth.COUNT_COLORS, "property": "targets"},
                            hoverStyle={"weight": 3, "color": "#1f3b64"},
                        ),
                        dl.GeoJSON(id=ids.HEAT_LAYER, style={"variable": "lawgrid.heatStyle"}, hideout={"max": 1}),
                        dl.GeoJSON(
                            id=ids.TARGETS_LAYER,
                            pointToLayer={"variable": "lawgrid.targetPoint"},
                            hideout={"colors": colors},
                        ),
                        district=district,
                        # The live layer is drawn by lawgrid-02-live.js on this map (see lawgrid.captureMap).
                        on_layeradd="lawgrid.captureMap",
                        # centre and zoom, not bounds: dash-leaflet's viewport tracking compares against them
                        center=[(miny + maxy) / 2, (minx + maxx) / 2],
                        zoom=10,
                        trackViewport=True,
                    ),
                    html.Div(
                        id=ids.TOWNSHIP_LEGEND,
                        className="lg-legend",
                        children=choropleth.legend(
                            t("overview.targets"), breaks, choropleth.COUNT_COLORS, max(values or [0])
                        ),
                    ),
                    DashSocketIO(id=ids.LIVE_SOCKET, url="/live", eventNames=["positions", "alarm", "inspection"]),
                    dcc.Store(id=ids.LIVE_SOCKET_STATE),
                    dcc.Store(id=ids.LIVE_INITIAL, data=live_rows(live_now)),
                    dcc.Store(id=ids.LIVE_ON_TASK, data=on_task),
                    dcc.Store(id=ids.LIVE_ON_TASK_APPLIED),
                    dcc.Store(id=ids.LIVE_APPLIED),
                    *live_panel.stores(),
                    # the target card opens over the map, beside the target clicked
                    html.Div(
                        id=ids.TARGET_CARD_FLOAT,
                        className="lg-card-float",
                        style={"display": "none"},
                        children=[
                            html.Button("×", id=ids.CARD_CLOSE, className="lg-card-close", n_clicks=0),
                            html.Div(id=ids.TARGET_CARD, className="lg-panel", children=target_card_view(None, "zh")),
                        ],
                    ),
                    html.Details(
                        id=ids.MAP_LEGEND,
                        className="lg-legend lg-legend-map",
                        open=False,
                        children=live_panel.legend(domains, "zh"),
                    ),
                ],
            ),
            html.Div(
                className="lg-side",
                children=[
                    html.H2(id=ids.OVERVIEW_HEADING, children=t("overview.heading"), style={"fontSize": "16px"}),
                    html.Div(
                        className="lg-cards",
                        children=[
                            _card(ids.CARD_TARGETS, counts["target"], "overview.total"),
                            _card(ids.CARD_UNITS, counts["enforcement_unit"], "overview.units"),
                            _card(ids.CARD_OFFICERS, counts["officer"], "overview.officers"),
                            _card(ids.CARD_DEVICES, counts["device"], "overview.devices"),
                        ],
                    ),
                    alarm_panel.panel(alarms, scope),
                    # The chart (and plotly.js, 3.6 MB to parse) comes once the map is up:
                    # lawgrid.showChart draws the figure into the slot.
                    html.Div(id=ids.TOWNSHIP_CHART_SLOT, style={"minHeight": "520px"}),
                    dcc.Store(id=ids.TOWNSHIP_FIGURE, data=township_chart(townships, "zh")),
                    html.P(id=ids.OVERVIEW_APPROXIMATE, className="lg-note", children=t("overview.approximate")),
                ],
            ),
        ],
    )


def filter_bar(townships: dict, domains: list[dict]):
    towns = {f["properties"]["code"]: f["properties"]["name"] for f in townships["features"]}
    return html.Div(
        className="lg-filterbar",
        children=[
            township_dropdown(ids.F_TOWNSHIP, towns, multi=True, width=200),
            domain_dropdown(ids.F_DOMAIN, domains, multi=True, width=220),
            dcc.Checklist(id=ids.F_RISK, options=risk_options("zh"), value=[], inline=True, style={"color": "#e6edf6"}),
            dcc.Input(
                id=ids.F_Q, type="search", debounce=True, placeholder=t("filter.search"), style={"width": "220px"}
            ),
            dcc.RadioItems(id=ids.F_COLOUR, options=colour_options("zh"), value="targets", inline=True),
            dcc.Checklist(
                id=ids.LIVE_FOLLOW,
                options=[{"label": t("live.follow"), "value": "follow"}],
                value=[],
                inline=True,
                style={"color": "#e6edf6"},
            ),
            live_panel.finder(),
            html.Span(id=ids.LIVE_SELECTED, className="lg-note"),
            dcc.Dropdown(
                id=ids.F_HEAT,
                options=heat_options("zh"),
                value=None,
                placeholder=t("heat.off"),
                style={"minWidth": "170px"},
            ),
            dcc.Store(id=ids.DOMAIN_NAMES, data=domains),
        ],
    )


def colour_options(lang: str) -> list[dict]:
    return [{"label": t(f"overview.colour.{k}", lang), "value": k} for k in ("targets", "coverage")]


def translate_overview(lang):
    with _runtime().session() as session:
        domains = queries.domains(session)
    return (
        t("overview.heading", lang),
        t("overview.approximate", lang),
        t("overview.total", lang),
        t("overview.units", lang),
        t("overview.officers", lang),
        t("overview.devices", lang),
        t("filter.township", lang),
        t("filter.domain", lang),
        domain_options(domains, lang),
        risk_options(lang),
        t("filter.search", lang),
        heat_options(lang),
        t("heat.off", lang),
        [{"label": t("live.follow", lang), "value": "follow"}],
        colour_options(lang),
    )
