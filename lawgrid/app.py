"""The app factory: one Flask server carrying the Dash pages and the REST API."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from lawgrid.runtime import Runtime, open_runtime
from lawgrid.settings import Settings, load_settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None):
    """Build the web app. Connects (and migrates) only when called."""
    settings = settings or load_settings()
    runtime = runtime or open_runtime(settings)
    server = Flask("lawgrid")
    server.config["SECRET_KEY"] = settings.secret_key or _ephemeral_secret()
    server.extensions["lawgrid"] = runtime

    from dashboard import auth
    from dashboard.api import api
    from dashboard.app import build_dash

    auth.install(server)
    server.register_blueprint(api)

    @server.errorhandler(HTTPException)
    def json_errors_for_api(exc: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name.lower().replace(" ", "_"), detail=exc.description), exc.code
        return exc

    return build_dash(server)


def _ephemeral_secret() -> str:
    import secrets

    return secrets.token_hex(32)
