"""First page: the district and its townships on an offline base map, coloured by the
number of regulated targets, with headline counts and a per-township chart."""

from __future__ import annotations

import dash
import dash_leaflet as dl
import shapely.geometry
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, dcc, html
from dash_socketio import DashSocketIO
from flask import current_app

from dashboard.auth import current_scope
from dashboard.i18n import t
from geo import fleet, queries

COLORS = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]


def _runtime():
    return current_app.extensions["lawgrid"]


def breaks_for(values: list[int], classes: int = len(COLORS)) -> list[int]:
    """Upper bounds of equal-count classes (quantiles), strictly increasing."""
    ordered = sorted(values)
    if not ordered:
        return []
    cuts = sorted({ordered[min(len(ordered) - 1, (i * len(ordered)) // classes)]
                   for i in range(1, classes)})
    return cuts


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/", name="overview", layout=layout)
    app.clientside_callback(
        ClientsideFunction(namespace="lawgrid", function_name="applyPositions"),
        Output("live-layer", "data"), Input("live-socket", "data-positions"),
        State("live-layer", "data"), prevent_initial_call=True)
    app.callback(
        Output("overview-heading", "children"), Output("overview-approximate", "children"),
        Output("card-targets-label", "children"), Output("card-units-label", "children"),
        Output("card-officers-label", "children"), Output("card-devices-label", "children"),
        Output("township-chart", "figure"), Output("township-legend-title", "children"),
        Input("lang", "data"), Input("township-data", "data"))(translate_overview)


def layout(**_query):
    runtime = _runtime()
    with runtime.session() as session:
        townships = queries.townships_geojson(session, simplify_m=30)
        district = queries.district_geojson(session)
        counts = queries.registry_counts(session, current_scope())
        live_now = fleet.devices(session, current_scope())
    for feature in townships["features"]:
        p = feature["properties"]
        p["tooltip"] = f"{p['name']}（{p['code']}）<br>{p['targets']:,}"
    values = [f["properties"]["targets"] for f in townships["features"]]
    breaks = breaks_for(values)
    base_layers = []
    if runtime.settings.tile_url:
        base_layers.append(dl.TileLayer(url=runtime.settings.tile_url,
                                        attribution=runtime.settings.tile_attribution))
    minx, miny, maxx, maxy = district_bounds(district)
    return html.Div(className="lg-body", children=[
      html.Div(className="lg-map-wrap", children=[
        dl.Map(
            id="overview-map", className="lg-map", bounds=[[miny, minx], [maxy, maxx]],
            minZoom=8, maxZoom=18,
            attributionControl=False,
            children=[
                *base_layers,
                dl.GeoJSON(id="district-outline", data=district,
                           style={"color": "#24406a", "weight": 2, "fill": False}),
                dl.GeoJSON(id="township-layer", data=townships,
                           style={"variable": "lawgrid.townshipStyle"},
                           hideout={"breaks": breaks, "colors": COLORS, "property": "targets"},
                           hoverStyle={"weight": 3, "color": "#1f3b64"}),
                dl.GeoJSON(id="live-layer", data=live_features(live_now),
                           pointToLayer={"variable": "lawgrid.livePoint"}),
                dl.ScaleControl(position="topright", imperial=False),
                # The prefix carries every attribution: layers added before the control
                # would not register theirs.
                dl.AttributionControl(position="bottomright", prefix=" | ".join(
                    filter(None, [t("map.attribution"), runtime.settings.tile_attribution]))),
            ],
        ),
        legend(breaks, values),
        DashSocketIO(id="live-socket", url="/live", eventNames=["positions", "alarm"]),
      ]),
        html.Div(className="lg-side", children=[
            html.H2(id="overview-heading", children=t("overview.heading"), style={"fontSize": "16px"}),
            html.Div(className="lg-cards", children=[
                _card("card-targets", counts["target"], "overview.total"),
                _card("card-units", counts["enforcement_unit"], "overview.units"),
                _card("card-officers", counts["officer"], "overview.officers"),
                _card("card-devices", counts["device"], "overview.devices"),
            ]),
            dcc.Graph(id="township-chart", figure=township_chart(townships, "zh"),
                      config={"displaylogo": False}, style={"height": "560px"}),
            html.P(id="overview-approximate", className="lg-note", children=t("overview.approximate")),
            dcc.Store(id="township-data", data=[
                {"name": f["properties"]["name"], "code": f["properties"]["code"],
                 "targets": f["properties"]["targets"]} for f in townships["features"]]),
        ]),
    ])


def live_features(devices: list[dict]) -> dict:
    """The devices' last known positions; the browser applies live batches on top."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": d["id"], "geometry": {"type": "Point", "coordinates": [d["lon"], d["lat"]]},
         "properties": {"state": d["state"], "recording": d["recording"], "sos": "sos" in (d["alarms"] or []),
                        "tooltip": f"#{d['id']} {d['officer']} {d['state']}"}}
        for d in devices if d["lat"] is not None]}


def district_bounds(district: dict) -> tuple[float, float, float, float]:
    return shapely.geometry.shape(district["geometry"]).bounds


def legend(breaks: list[int], values: list[int]):
    """Class legend matching lawgrid.townshipStyle: one swatch per quantile class."""
    bounds = [0, *breaks, max(values or [0])]
    items = []
    for i, colour in enumerate(COLORS[: len(bounds) - 1]):
        low = bounds[i] + (1 if i else 0)
        items.append(html.Div(className="lg-legend-row", children=[
            html.Span(className="lg-swatch", style={"background": colour}),
            html.Span(f"{low:,} – {bounds[i + 1]:,}"),
        ]))
    return html.Div(id="township-legend", className="lg-legend", children=[
        html.Div(id="township-legend-title", children=t("overview.targets")), *items])


def _card(card_id: str, value: int, label_key: str):
    return html.Div(className="lg-card", id=card_id, children=[
        html.Div(className="value", children=f"{value:,}"),
        html.Div(className="label", children=t(label_key), id=f"{card_id}-label"),
    ])


def township_chart(townships_or_rows, lang: str) -> go.Figure:
    rows = townships_or_rows
    if isinstance(rows, dict):
        rows = [f["properties"] for f in rows["features"]]
    rows = sorted(rows, key=lambda r: r["targets"])
    figure = go.Figure(go.Bar(
        x=[r["targets"] for r in rows], y=[r["name"] for r in rows], orientation="h",
        marker_color="#fd8d3c", hovertemplate="%{y}: %{x:,}<extra></extra>"))
    figure.update_layout(
        title=t("overview.chart", lang), margin=dict(l=10, r=10, t=40, b=10),
        paper_bgcolor="#13243d", plot_bgcolor="#13243d", font=dict(color="#e6edf6", size=11),
        xaxis=dict(title=t("overview.targets", lang), gridcolor="#24406a"),
        yaxis=dict(automargin=True))
    return figure


def translate_overview(lang, rows):
    return (t("overview.heading", lang), t("overview.approximate", lang), t("overview.total", lang),
            t("overview.units", lang), t("overview.officers", lang), t("overview.devices", lang),
            township_chart(rows or [], lang), t("overview.targets", lang))
