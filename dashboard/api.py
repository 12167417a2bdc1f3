"""REST API (JSON; GeoJSON in EPSG:4326). Errors are {"error", "detail"} with a 4xx status.
Every route is guarded by dashboard.auth; @requires narrows it to roles."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from dashboard.alarms import ACTING_ROLES, AlarmRequestError, act_on_alarm
from dashboard.auth import client_address, current_scope, requires
from geo import audit, db, fleet, queries, telemetry
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


@api.get("/devices")
@requires(*ROLES)
def devices():
    with _runtime().session() as session:
        return jsonify(devices=fleet.devices(session, current_scope()))


@api.get("/devices/<int:device_id>/track")
@requires(*ROLES)
def device_track(device_id: int):
    """Fixes of one device in [start, end) as GeoJSON; ?simplify=metres simplifies the line."""
    args = request.args
    end = _parse_time(args.get("end"), "end") or dt.datetime.now(dt.UTC)
    start = _parse_time(args.get("start"), "start") or end - dt.timedelta(hours=1)
    if start >= end:
        abort(400, description="start must be before end")
    if end - start > dt.timedelta(days=31):
        abort(400, description="a track spans at most 31 days")
    simplify = _parse_number(args.get("simplify", "0"), "simplify", 0, 10_000, float)
    scope = current_scope()
    with _runtime().session() as session:
        if not fleet.device_visible(session, scope, device_id):
            abort(404, description=f"no device {device_id} in your scope")
        doc = telemetry.track(session, device_id, start, end, simplify)
        audit.record(
            session,
            scope.username,
            "track_view",
            subject=f"device:{device_id}",
            detail={"start": start.isoformat(), "end": end.isoformat()},
            source=client_address(),
        )
    return jsonify(doc)


@api.get("/officers")
@requires(*ROLES)
def officers():
    with _runtime().session() as session:
        return jsonify(officers=fleet.officers_live(session, current_scope()))


@api.get("/alarms")
@requires(*ROLES)
def alarms():
    status = request.args.get("status", "open")
    if status not in ("open", "acknowledged", "resolved", "all"):
        abort(400, description="status must be open, acknowledged, resolved or all")
    limit = _parse_number(request.args.get("limit", "200"), "limit", 1, 2000)
    with _runtime().session() as session:
        rows = fleet.alarms(session, current_scope(), None if status == "all" else status, limit)
    return jsonify(alarms=rows)


@api.post("/alarms/<int:alarm_id>/<any(ack, resolve):action>")
@requires(*ACTING_ROLES)
def alarm_action(alarm_id: int, action: str):
    body = request.get_json(silent=True) or {}
    try:
        return jsonify(act_on_alarm(current_scope(), alarm_id, action, body.get("comment", "")))
    except AlarmRequestError as exc:
        abort(400, description=str(exc))
    except fleet.NotFound as exc:
        abort(404, description=str(exc))
    except fleet.Conflict as exc:
        abort(409, description=str(exc))


@api.get("/ingest/stats")
@requires("admin", "operator")
def ingest_stats():
    background = current_app.extensions.get("lawgrid_ingest")
    if background is None:
        return jsonify(running=False, detail="device listeners run in a separate process (lawgrid ingest)")
    return jsonify(running=True, counters=background.call(background.service.stats))


@api.get("/audit")
@requires("auditor", "admin")
def audit_log():
    """The audit trail, newest first; filter by actor, action and a time window."""
    args = request.args
    start, end = _parse_time(args.get("start"), "start"), _parse_time(args.get("end"), "end")
    limit = _parse_number(args.get("limit", "200"), "limit", 1, 5000)
    with _runtime().session() as session:
        rows = audit.search(
            session,
            actor=args.get("actor") or None,
            action=args.get("action") or None,
            start=start,
            end=end,
            limit=limit,
        )
    return jsonify(entries=rows)


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{name} must be an ISO 8601 time, e.g. 2026-11-24T08:00:00+08:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def _parse_number(value: str, name: str, low, high, kind=int):
    """value as int or float within [low, high], or a 400 naming the parameter."""
    try:
        number = kind(value)
    except ValueError:
        abort(400, description=f"{name} must be {'an integer' if kind is int else 'a number'}")
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
        "/api/health": {"get": {"summary": "Service and database status", "responses": {"200": {"description": "ok"}}}},
        "/api/auth/token": {
            "post": {
                "summary": "Bearer token for {username, password}",
                "responses": {
                    "200": {"description": "token"},
                    "401": {"description": "wrong credentials"},
                    "429": {"description": "throttled"},
                },
            }
        },
        "/api/audit": {
            "get": {
                "summary": "Audit trail (auditor, admin); ?actor=&action=&start=&end=&limit=",
                "responses": {"200": {"description": "entries"}},
            }
        },
        "/api/devices": {"get": {"summary": "Devices in your scope with their live state"}},
        "/api/devices/{id}/track": {"get": {"summary": "GeoJSON fixes in [start, end); ?simplify=metres"}},
        "/api/officers": {"get": {"summary": "Live state of every visible officer"}},
        "/api/alarms": {"get": {"summary": "Alarms; ?status=open|acknowledged|resolved|all"}},
        "/api/alarms/{id}/ack": {"post": {"summary": "Acknowledge with {comment}"}},
        "/api/alarms/{id}/resolve": {"post": {"summary": "Resolve with {comment}"}},
        "/api/ingest/stats": {"get": {"summary": "Listener counters: accepted, refused by reason"}},
        "/api/townships": {
            "get": {
                "summary": "Townships with target counts (GeoJSON FeatureCollection)",
                "responses": {"200": {"description": "FeatureCollection"}},
            }
        },
    },
}
