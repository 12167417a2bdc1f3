"""The app factory: one Flask server carrying the Dash pages, the REST API and Socket.IO,
with the device listeners on a background thread when asked for."""

from __future__ import annotations

import secrets

from flask import Flask, jsonify, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from lawgrid.runtime import Runtime, open_runtime
from lawgrid.settings import Settings, load_settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, *, with_ingest: bool = False):
    """Build the web app. Connects (and migrates) only when called."""
    settings = settings or load_settings()
    runtime = runtime or open_runtime(settings)
    server = Flask("lawgrid")
    server.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    server.extensions["lawgrid"] = runtime

    from dashboard import api_coverage, api_dispatch, api_targets, auth, basemap, live  # noqa: F401 (routes on api)

    basemap.basemaps(settings)  # a misconfigured base map fails here, with its reason
    from dashboard.api import api
    from dashboard.app import build_dash

    auth.install(server)
    server.register_blueprint(api)

    @server.errorhandler(HTTPException)
    def json_errors_for_api(exc: HTTPException):
        if request.path.startswith(("/api/", "/_dash-")):
            return jsonify(error=exc.name.lower().replace(" ", "_"), detail=exc.description), exc.code
        return exc

    socketio = SocketIO(server, async_mode="threading", message_queue=settings.redis_url, cors_allowed_origins=[])
    live.install(socketio)
    push = live.LivePush(socketio, runtime.sessions, interval_s=settings.push_interval_s)
    push.start()
    server.extensions["lawgrid_live"] = push
    if with_ingest:
        start_ingest(server, runtime, push)
    return build_dash(server)


def start_ingest(server: Flask, runtime: Runtime, push) -> None:
    from ingest.service import BackgroundIngest, IngestConfig, IngestService

    config = IngestConfig.from_runtime(runtime)
    service = IngestService(
        config, runtime.sessions, on_commit=push.on_commit, on_states=push.on_states, on_arrivals=push.on_arrivals
    )
    background = BackgroundIngest(service)
    background.start()
    server.extensions["lawgrid_ingest"] = background
