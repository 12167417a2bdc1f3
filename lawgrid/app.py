"""The app factory: one Flask server carrying the Dash pages, the REST API and Socket.IO,
with the device listeners on a background thread when asked for."""

from __future__ import annotations

import secrets

from flask import Flask
from flask_socketio import SocketIO

from lawgrid.runtime import Runtime, open_runtime
from lawgrid.settings import Settings, load_settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, *, with_ingest: bool = False):
    """Build the web app. Connects (and migrates) only when called."""
    settings = settings or load_settings()
    runtime = runtime or open_runtime(settings)
    server = Flask("lawgrid")
    server.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    server.extensions["lawgrid"] = runtime
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from dashboard import auth, basemap, live, registry, security, terminal
    from dashboard.app import build_dash
    from dashboard.rest import errors, router

    web = web_config(settings)
    server.extensions["lawgrid_web"] = web
    basemap.basemaps(web)  # a misconfigured base map fails here, with its reason
    install_compression(server)
    errors.install_errors(server)  # before the blueprint: its rules use the `id` converter
    auth.install(server)
    server.register_blueprint(router.blueprint(registry.routers()))
    server.extensions["lawgrid_operations"] = list(registry.operations())
    terminal.install(server)  # 移动执法 at /m

    socketio = SocketIO(
        server,
        async_mode=settings.async_mode,
        message_queue=settings.redis_url,
        cors_allowed_origins=live.origin_check(settings.public_origins),
        serializer=live.LivePacket,
    )
    live.install(socketio)
    push = live.LivePush(socketio, runtime.sessions, interval_s=settings.push_interval_s)
    push.start()
    server.extensions["lawgrid_live"] = push
    if settings.case_sweep_interval_s > 0:
        sweep = live.CaseSweep(push, settings.case_sweep_interval_s)
        sweep.start()
        server.extensions["lawgrid_case_sweep"] = sweep
    if with_ingest:
        start_ingest(server, runtime, push)
    server.extensions["lawgrid_downlink"] = downlink_wake(server, settings)
    server.extensions["lawgrid_ingest_reports"] = ingest_reports(settings)
    dash_app = build_dash(server)
    security.install(server, dash_app, web)  # after every callback: CSP hashes of Dash's inline scripts
    return dash_app


def web_config(settings: Settings):
    """The web layer's settings as plain values (dashboard/ never reads the environment)."""
    from dashboard.config import WebConfig

    return WebConfig(
        basemap=settings.basemap,
        tianditu_key=settings.tianditu_key,
        tile_url=settings.tile_url,
        tile_crs=settings.tile_crs,
        tile_attribution=settings.tile_attribution,
        secure_cookies=settings.secure_cookies,
        idle_timeout_minutes=settings.idle_timeout_minutes,
        token_ttl_seconds=settings.token_ttl_seconds,
    )


def install_compression(server: Flask) -> None:
    """Compressed answers (zstd, brotli or gzip, as the browser accepts) for pages, scripts,
    JSON and GeoJSON; a route's strong ETag is kept per encoding and If-None-Match answered
    with 304. Exports (CSV, XLSX) and Socket.IO are left as they are."""
    from flask_compress import Compress

    server.config.update(
        COMPRESS_MIMETYPES=[
            "application/json",
            "application/geo+json",
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",
        ],
        COMPRESS_ALGORITHM=["zstd", "br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_MIN_SIZE=1024,
    )
    Compress(server)


def downlink_wake(server: Flask, settings: Settings):
    """How this web process gets queued texts to the terminals: through its own listeners
    (lawgrid serve), then by waking every ingest process over Redis (LAWGRID_REDIS_URL).
    Called with the queued message ids; returns those already sent."""
    background = server.extensions.get("lawgrid_ingest")

    def wake(message_ids: list[int]) -> set[int]:
        sent: set[int] = set()
        if background is not None:
            sent = background.await_(background.service.deliver_pending)
        if settings.redis_url and set(message_ids) - sent:
            from ingest.wake import publish

            try:
                publish(settings.redis_url)
            except Exception:  # the ingest sweep still finds them in the outbox
                server.logger.warning("could not wake the ingest processes over Redis", exc_info=True)
        return sent

    return wake


def ingest_reports(settings: Settings):
    """The `lawgrid ingest` processes' counters, as they write them to Redis (none without)."""

    def read() -> list[dict]:
        if not settings.redis_url:
            return []
        from ingest.wake import read_stats

        return read_stats(settings.redis_url)

    return read


def queue_push(settings: Settings, runtime: Runtime):
    """Live push from a process with no browsers of its own (lawgrid ingest): batches reach every
    web process's clients through the Redis message queue. Started; stop it when done."""
    from dashboard.live import LivePush

    push = LivePush(SocketIO(message_queue=settings.redis_url), runtime.sessions, interval_s=settings.push_interval_s)
    push.start()
    return push


def start_ingest(server: Flask, runtime: Runtime, push) -> None:
    from ingest.service import BackgroundIngest, IngestConfig, IngestService

    config = IngestConfig.from_runtime(runtime)
    service = IngestService(
        config, runtime.sessions, on_commit=push.on_commit, on_states=push.on_states, on_arrivals=push.on_arrivals
    )
    background = BackgroundIngest(service)
    background.start()
    server.extensions["lawgrid_ingest"] = background
