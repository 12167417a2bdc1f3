"""Headers every answer carries: a Content-Security-Policy that runs no inline script but
Dash's own (allowed by hash), frames nobody in, and sends nothing to other origins; no
content-type sniffing; no referrer outside the site. Names reach the pages as text (Dash
components) or escaped (map tooltips, which dash-leaflet renders as HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response

from dashboard import basemap
from dashboard.config import WebConfig


def tile_sources(settings: WebConfig) -> list[str]:
    """CSP sources for the configured base map's tiles ({s} subdomains as a wildcard)."""
    sources = set()
    for layer in basemap.basemaps(settings):
        url = urlparse(layer.url)
        if not url.netloc:
            continue  # a path on this server: 'self'
        host = url.netloc
        if "{s}" in host:
            host = "*." + host.split(".", 1)[1]
        sources.add(f"{url.scheme}://{host}")
    return sorted(sources)


def content_security_policy(script_hashes: list[str], settings: WebConfig) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],  # Leaflet and React set element styles
        "img-src": ["'self'", "data:", "blob:", *tile_sources(settings)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],  # REST, Dash and Socket.IO (same-origin ws: included)
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install(server: Flask, dash_app: Any, settings: WebConfig) -> None:
    """The policy allows exactly Dash's inline scripts, by hash. Dash adds some of them only when
    it sets itself up on the first request (pages' clientside callbacks), so the hashes are
    read again whenever their number changes."""
    cache: dict[int, str] = {}

    def policy() -> str:
        hashes = list(dash_app.csp_hashes())
        if len(hashes) not in cache:
            cache.clear()
            cache[len(hashes)] = content_security_policy(hashes, settings)
        return cache[len(hashes)]

    @server.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy())
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response
