"""REST routes of the targets layer: viewport data (cells or targets) and a target's card."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import Field

from dashboard.context import runtime
from dashboard.rest.router import Router
from dashboard.rest.types import Code, FeatureCollection, Query, Text
from geo.infra.errors import NotFound
from geo.places import target_map

router = Router()


class TargetQuery(Query):
    """Filters; each list takes repeated or comma-separated values."""

    township: list[Code] = Field(default_factory=list, max_length=26)
    domain: list[Code] = Field(default_factory=list, max_length=20)
    risk: list[int] = Field(default_factory=list, max_length=4, description="risk levels 1 to 4")
    q: Text = Field("", max_length=100, description="name or credit code contains")

    def filter(self) -> target_map.TargetFilter:
        return target_map.TargetFilter(townships=self.township, domains=self.domain, risks=self.risk, q=self.q)


BBOX = Field(description="west,south,east,north in degrees (EPSG:4326)", max_length=200)


class ViewportQuery(TargetQuery):
    bbox: str = BBOX
    zoom: int = Field(ge=0, le=22)


@router.route(
    "GET",
    "/targets/map",
    permission="view",
    query=ViewportQuery,
    produces="application/geo+json",
    response=FeatureCollection,
    summary="Targets in a viewport: grid cells below zoom 16, the targets themselves from 16 or with q",
)
def targets_map(query: ViewportQuery) -> Response:
    bbox = target_map.parse_bbox(query.bbox)
    with runtime().session() as session:
        # Cells change only when the pyramid is rebuilt: their ETag comes from its refresh time
        # and the question, so a map panned back to where it was gets 304 without a query.
        tag = target_map.cells_etag(session, bbox, query.zoom, query.filter())
        held = [t for t in request.if_none_match.as_set() if tag and (t == tag or t.startswith(tag + ":"))]
        if held:
            response = Response(status=304)
            response.set_etag(held[0])  # (as the browser holds it: with its encoding)
            response.headers["Cache-Control"] = "private, no-cache"
            return response
        body = target_map.viewport_geojson(session, bbox, query.zoom, query.filter())
    response = Response(body, mimetype="application/geo+json")
    head = target_map.answer_header(body)
    if head.get("truncated"):  # the map reads these headers to ask for a zoom, without parsing the body
        response.headers["X-LawGrid-Truncated"] = "true"
        response.headers["X-LawGrid-Limit"] = str(head["limit"])
    if tag:
        response.set_etag(tag)
    else:  # targets themselves: the answer's own hash
        response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"  # revalidated each time: the registry changes
    response.make_conditional(request)  # (a compressed answer's tag is judged after compression)
    return response


class TargetsQuery(TargetQuery):
    bbox: str | None = Field(None, description="west,south,east,north in degrees (EPSG:4326)", max_length=200)
    limit: int = Field(1000, ge=1, le=10_000)


@router.route(
    "GET",
    "/targets",
    permission="view",
    query=TargetsQuery,
    produces="application/geo+json",
    response=FeatureCollection,
    summary="Targets as GeoJSON under filters (1,000 by default, 10,000 at most; truncated says if more matched)",
)
def targets(query: TargetsQuery) -> Response:
    bbox = target_map.parse_bbox(query.bbox) if query.bbox else None
    with runtime().session() as session:
        body = target_map.targets_geojson(session, query.filter(), bbox, query.limit)
    return Response(body, mimetype="application/geo+json")


@router.route(
    "GET", "/targets/<id:target_id>", permission="view", summary="A target's card: name, credit code, domains"
)
def target_card(target_id: int) -> Any:
    with runtime().session() as session:
        card = target_map.target_card(session, target_id)
    if card is None:
        raise NotFound(f"no target {target_id}")
    return card
