"""Base maps. The default draws nothing from outside (the district and townships on a plain
background work offline). Tile services are opt-in: Tianditu (CGCS2000, treated as WGS84),
AutoNavi (GCJ-02), OpenStreetMap, or a tile server of your own.

Everything LawGrid stores and draws is WGS84. A GCJ-02 base map is shifted in the browser by
the GCJ-02 offset at the centre of the view (lawgrid.alignTiles): the offset changes by less
than a metre across a street-level view and by about 20 m across the whole district."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_leaflet as dl

from dashboard.config import WebConfig


class BasemapError(ValueError):
    pass


@dataclass(frozen=True)
class Basemap:
    url: str
    attribution: str
    crs: str = "wgs84"
    subdomains: str = "abc"


def _tianditu(key: str | None) -> list[Basemap]:
    if not key:
        raise BasemapError("LAWGRID_BASEMAP=tianditu needs LAWGRID_TIANDITU_KEY (a Tianditu browser key)")
    wmts = (
        "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + key
    )
    return [
        Basemap(wmts % ("vec", "vec"), "天地图 Tianditu", subdomains="01234567"),
        Basemap(wmts % ("cva", "cva"), "", subdomains="01234567"),
    ]


def basemaps(settings: WebConfig) -> list[Basemap]:
    if settings.tile_url:
        if settings.tile_crs not in ("wgs84", "gcj02"):
            raise BasemapError("LAWGRID_TILE_CRS must be wgs84 or gcj02")
        return [Basemap(settings.tile_url, settings.tile_attribution, settings.tile_crs)]
    kind = settings.basemap
    if kind == "none":
        return []
    if kind == "tianditu":
        return _tianditu(settings.tianditu_key)
    if kind == "autonavi":
        return [
            Basemap(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                "© 高德地图 AutoNavi",
                "gcj02",
                "1234",
            )
        ]
    if kind == "osm":
        return [Basemap("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors")]
    raise BasemapError(f"LAWGRID_BASEMAP must be none, tianditu, autonavi or osm, not {kind!r}")


def tile_layers(settings: WebConfig) -> list:
    """dash-leaflet layers of the configured base map; GCJ-02 ones are marked for alignment."""
    return [
        dl.TileLayer(
            url=b.url, subdomains=b.subdomains, maxZoom=19, className="lg-gcj02" if b.crs == "gcj02" else "lg-wgs84"
        )
        for b in basemaps(settings)
    ]


def attribution(settings: WebConfig) -> str:
    return " | ".join(b.attribution for b in basemaps(settings) if b.attribution)


DISTRICT_STYLE = {"color": "#24406a", "weight": 2, "fill": False}


def leaflet_map(
    map_id: str,
    settings: WebConfig,
    *layers: Any,
    district: dict[str, Any] | None = None,
    class_name: str = "lg-map",
    on_layeradd: str = "lawgrid.watchTiles",
    **view: Any,
) -> dl.Map:
    """Every page's map, so the base map and its GCJ-02 alignment hold everywhere: the
    configured tiles (under the district outline, when given), then the page's layers, a
    metric scale and one attribution control that carries every attribution. on_layeradd
    must end in lawgrid.watchTiles (lawgrid.captureMap does, for the command map)."""
    from dashboard.i18n import t

    base: list[Any] = list(tile_layers(settings))
    if district is not None:
        base.append(dl.GeoJSON(id=f"{map_id}-district", data=district, style=DISTRICT_STYLE))
    prefix = " | ".join(filter(None, [t("map.attribution"), attribution(settings)]))
    return dl.Map(
        id=map_id,
        className=class_name,
        minZoom=view.pop("minZoom", 8),
        maxZoom=view.pop("maxZoom", 18),
        attributionControl=False,
        eventHandlers={"layeradd": {"variable": on_layeradd}},
        children=[
            *base,
            *layers,
            dl.ScaleControl(position="topright", imperial=False),
            # The prefix carries every attribution: layers added before the control would not register theirs.
            dl.AttributionControl(position="bottomright", prefix=prefix),
        ],
        **view,
    )
