"""REST API (JSON; GeoJSON in EPSG:4326). Errors are {"error", "detail"} with a 4xx status.
Every route is guarded by dashboard.auth; @requires narrows it to roles."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from dashboard.auth import requires
from geo import audit, db, queries
from geo.accounts import ROLES

BEIJING = dt.timezone(dt.timedelta(hours=8))

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
@requires(*ROLES)
def townships():
    with _runtime().session() as session:
        return jsonify(queries.townships_geojson(session))


@api.get("/audit")
@requires("auditor", "admin")
def audit_log():
    """The audit trail, newest first; filter by actor, action and a time window."""
    args = request.args
    start, end = _parse_time(args.get("start"), "start"), _parse_time(args.get("end"), "end")
    limit = _parse_int(args.get("limit", "200"), "limit", 1, 5000)
    with _runtime().session() as session:
        rows = audit.search(session, actor=args.get("actor") or None, action=args.get("action") or None,
                            start=start, end=end, limit=limit)
    return jsonify(entries=rows)


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{name} must be an ISO 8601 time, e.g. 2026-11-24T08:00:00+08:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def _parse_int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        abort(400, description=f"{name} must be an integer")
    if not low <= number <= high:
        abort(400, description=f"{name} must be between {low} and {high}")
    return number


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
        "/api/auth/token": {"post": {"summary": "Bearer token for {username, password}",
                                     "responses": {"200": {"description": "token"},
                                                   "401": {"description": "wrong credentials"},
                                                   "429": {"description": "throttled"}}}},
        "/api/audit": {"get": {"summary": "Audit trail (auditor, admin); ?actor=&action=&start=&end=&limit=",
                               "responses": {"200": {"description": "entries"}}}},
        "/api/townships": {"get": {"summary": "Townships with target counts (GeoJSON FeatureCollection)",
                                   "responses": {"200": {"description": "FeatureCollection"}}}},
    },
}
