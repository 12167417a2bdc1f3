"""The district map every map page starts from: the configured base map, the district outline
read once per request, the page's layers, a metric scale and the attribution."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import html

from dashboard import basemap
from dashboard.config import web_config
from dashboard.context import runtime
from geo.places import queries


def district_outline() -> dict[str, Any]:
    with runtime().session() as session:
        outline: dict[str, Any] = queries.district_geojson(session)
    return outline


def district_map(map_id: str, *layers: Any, district: dict[str, Any] | None = None, **view: Any) -> dl.Map:
    """The page's map over the district (its outline drawn unless district={} is given)."""
    outline = district_outline() if district is None else district
    return basemap.leaflet_map(map_id, web_config(), *layers, district=outline or None, **view)


def map_panel(map_id: str, *layers: Any, children: tuple[Any, ...] = (), **view: Any) -> html.Div:
    """The map in its panel, with whatever rides along (sockets, stores, legends)."""
    return html.Div(className="lg-map-wrap", children=[district_map(map_id, *layers, **view), *children])
