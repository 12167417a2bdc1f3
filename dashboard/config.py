"""The settings the web layer reads, as plain values: the app factory builds this from the
process's settings and hands it over, so nothing under dashboard/ reads the environment."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class WebConfig:
    basemap: str = "none"  # none (offline) | tianditu | autonavi | osm
    tianditu_key: str | None = None
    tile_url: str | None = None  # a tile template of your own; overrides basemap
    tile_crs: str = "wgs84"  # wgs84 or gcj02: the datum of tile_url's imagery
    tile_attribution: str = ""
    secure_cookies: bool = False
    idle_timeout_minutes: int = 30
    token_ttl_seconds: int = 8 * 3600


def web_config() -> WebConfig:
    """This app's web settings (inside a request or callback)."""
    config: WebConfig = current_app.extensions["lawgrid_web"]
    return config
