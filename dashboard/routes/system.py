"""REST API, core routes: health, townships, devices and tracks, officers, alarms, ingest
counters, the audit trail and the OpenAPI document. Routes are declared with
`dashboard.rest.route` (typed query and body, permission, response); errors are
`geo.errors` raised anywhere below and answered by one handler."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Literal

from flask import current_app
from pydantic import Field, model_validator

from dashboard.context import runtime, scope, services
from dashboard.rest.openapi import openapi_document
from dashboard.rest.router import Router
from dashboard.rest.types import FeatureCollection, IsoTime, Listing, Model, Query, Text
from geo.infra import audit, db
from geo.places import queries
from geo.telemetry import fleet
from services import alarms as alarm_uses
from services import telemetry as telemetry_uses

router = Router()


class Health(Model):
    status: Literal["ok"]
    database: dict[str, Any]
    revision: str | None


@router.route(
    "GET",
    "/health",
    permission=None,
    response=Health,
    summary="Service and database status (no login); 503 naming the database while it cannot be reached",
)
def health() -> Any:
    engine = runtime().engine
    summary, revision = db.health(engine)  # Unavailable (503, naming the database) while it is down
    return Health(status="ok", database=summary, revision=revision)


@router.route(
    "GET",
    "/townships",
    permission="view",
    response=FeatureCollection,
    summary="The 26 townships with their NBS codes and target counts (GeoJSON FeatureCollection)",
)
def townships() -> Any:
    with runtime().session() as session:
        return queries.townships_geojson(session)


@router.route(
    "GET", "/devices", permission="view", response=Listing, summary="Devices in your scope with their live state"
)
def devices() -> Any:
    with runtime().session() as session:
        return {"devices": fleet.devices(session, scope())}


@router.route(
    "GET",
    "/devices/names",
    permission="view",
    summary="Each device in your scope as [officer, unit, kind, number], keyed by id: the map's finder and labels",
)
def device_names() -> Any:
    with runtime().session() as session:
        return fleet.device_names(session, scope())


class TrackQuery(Query):
    start: IsoTime | None = Field(None, description="ISO 8601; default an hour before end")
    end: IsoTime | None = Field(None, description="ISO 8601; default now")
    simplify: float = Field(0.0, ge=0, le=10_000, allow_inf_nan=False, description="simplify the line (metres)")

    @model_validator(mode="after")
    def window(self) -> TrackQuery:
        self.end = self.end or dt.datetime.now(dt.UTC)
        self.start = self.start or self.end - dt.timedelta(hours=1)
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.end - self.start > dt.timedelta(days=31):
            raise ValueError("a track spans at most 31 days")
        return self


@router.route(
    "GET",
    "/devices/<id:device_id>/track",
    permission="view",
    query=TrackQuery,
    response=FeatureCollection,
    summary="A device's fixes in [start, end) as GeoJSON points and a line (audited)",
)
def device_track(device_id: int, query: TrackQuery) -> Any:
    assert query.start is not None and query.end is not None
    return telemetry_uses.track(services(), scope(), device_id, query.start, query.end, query.simplify)


@router.route("GET", "/officers", permission="view", response=Listing, summary="Live state of every visible officer")
def officers() -> Any:
    with runtime().session() as session:
        return {"officers": fleet.officers_live(session, scope())}


class AlarmQuery(Query):
    status: Literal["open", "acknowledged", "resolved", "all"] = "open"
    limit: int = Field(200, ge=1, le=2000)


@router.route(
    "GET",
    "/alarms",
    permission="view",
    query=AlarmQuery,
    response=Listing,
    summary="Alarms in your scope, newest first",
)
def alarms(query: AlarmQuery) -> Any:
    with runtime().session() as session:
        rows = fleet.alarms(session, scope(), None if query.status == "all" else query.status, query.limit)
    return {"alarms": rows}


class AlarmAction(Model):
    comment: Text = Field("", max_length=1000, description="required to resolve: how it was resolved")


@router.route(
    "POST",
    "/alarms/<id:alarm_id>/<any(ack, resolve):action>",
    permission="alarm.act",
    body=AlarmAction,
    summary="Acknowledge or resolve an alarm (audited, pushed live)",
)
def alarm_action(alarm_id: int, action: str, body: AlarmAction) -> Any:
    return alarm_uses.act(services(), scope(), alarm_id, action, body.comment)


@router.route(
    "GET", "/ingest/stats", permission="ingest.stats", summary="Listener counters: accepted, refused by reason"
)
def ingest_stats() -> Any:
    """This process's own listeners (lawgrid serve), or every `lawgrid ingest` process's, as
    each last wrote them to Redis (every sweep, five seconds), with their sum."""
    background = current_app.extensions.get("lawgrid_ingest")
    if background is not None:
        return {"running": True, "counters": background.call(background.service.stats)}
    try:
        processes = current_app.extensions["lawgrid_ingest_reports"]()
    except Exception as exc:  # Redis away: say so, not a 500
        return {"running": None, "detail": f"could not read the ingest processes' counters from Redis: {exc}"}
    if not processes:
        return {"running": False, "detail": "no ingest process has reported in the last 30 s (lawgrid ingest)"}
    total: Counter[str] = Counter()
    for p in processes:
        total.update({k: v for k, v in p["counters"].items() if isinstance(v, int | float)})
    return {"running": True, "counters": dict(total), "processes": processes}


class AuditQuery(Query):
    actor: Text | None = None
    action: Text | None = None
    start: IsoTime | None = None
    end: IsoTime | None = None
    limit: int = Field(200, ge=1, le=5000)


@router.route(
    "GET",
    "/audit",
    permission="audit.read",
    query=AuditQuery,
    response=Listing,
    summary="The audit trail, newest first; filter by actor, action and a time window",
)
def audit_log(query: AuditQuery) -> Any:
    with runtime().session() as session:
        rows = audit.search(
            session, actor=query.actor, action=query.action, start=query.start, end=query.end, limit=query.limit
        )
    return {"entries": rows}


@router.route("GET", "/openapi.json", permission="view", summary="This document")
def openapi() -> Any:
    return openapi_document(current_app.extensions["lawgrid_operations"])
