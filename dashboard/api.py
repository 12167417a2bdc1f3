"""REST API (JSON; GeoJSON in EPSG:4326). Errors are {"error", "detail"} with a 4xx status."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from geo import db, queries

api = Blueprint("api", __name__, url_prefix="/api")


def _runtime():
    return current_app.extensions["lawgrid"]


@api.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), detail=exc.description), exc.code


@api.get("/health")
def health():
    runtime = _runtime()
    summary = db.server_summary(runtime.engine)
    return jsonify(status="ok", database=summary, revision=db.current_revision(runtime.engine))


@api.get("/townships")
def townships():
    with _runtime().session() as session:
        return jsonify(queries.townships_geojson(session))


@api.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(_unknown):
    """Keep Dash's catch-all page route from answering unknown API paths with HTML."""
    abort(404, description=f"no API route {request.method} {request.path}")


@api.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "LawGrid API", "version": "0.1.0"},
    "paths": {
        "/api/health": {"get": {"summary": "Service and database status",
                                "responses": {"200": {"description": "ok"}}}},
        "/api/townships": {"get": {"summary": "Townships with target counts (GeoJSON FeatureCollection)",
                                   "responses": {"200": {"description": "FeatureCollection"}}}},
    },
}
