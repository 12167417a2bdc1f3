"""REST routes of the targets layer: viewport data (cells or targets) and a target's card."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from dashboard.api import OPENAPI, _parse_number, _runtime, api
from dashboard.auth import requires
from geo import target_map
from geo.accounts import ROLES


def filter_from_args(args) -> target_map.TargetFilter:
    """?township=CODE&domain=KEY&risk=N (each repeatable or comma-separated) &q=TEXT"""

    def many(name):
        return [v for raw in args.getlist(name) for v in raw.split(",") if v]

    risks = [_parse_number(v, "risk", 1, 4) for v in many("risk")]
    try:
        return target_map.TargetFilter(
            townships=many("township"), domains=many("domain"), risks=risks, q=args.get("q", "")
        )
    except target_map.BadViewport as exc:
        abort(400, description=str(exc))


@api.get("/targets/map")
@requires(*ROLES)
def targets_map():
    args = request.args
    if "bbox" not in args or "zoom" not in args:
        abort(400, description="bbox=west,south,east,north and zoom are required")
    zoom = _parse_number(args["zoom"], "zoom", 0, 22)
    flt = filter_from_args(args)
    return _geojson(
        lambda session: target_map.viewport_geojson(session, target_map.parse_bbox(args["bbox"]), zoom, flt)
    )


@api.get("/targets")
@requires(*ROLES)
def targets():
    """?bbox=w,s,e,n (optional) &township= &domain= &risk= &q= &limit= (1 to 10,000)"""
    args = request.args
    limit = _parse_number(args.get("limit", "1000"), "limit", 1, 10_000)
    flt = filter_from_args(args)
    bbox = args.get("bbox")
    return _geojson(
        lambda session: target_map.targets_geojson(session, flt, target_map.parse_bbox(bbox) if bbox else None, limit)
    )


def _geojson(query) -> Response:
    """Run query(session), which returns GeoJSON text; a bad viewport is a 400 with its reason."""
    try:
        with _runtime().session() as session:
            body = query(session)
    except target_map.BadViewport as exc:
        abort(400, description=str(exc))
    return Response(body, mimetype="application/geo+json")


@api.get("/targets/<int:target_id>")
@requires(*ROLES)
def target_card(target_id: int):
    with _runtime().session() as session:
        card = target_map.target_card(session, target_id)
    if card is None:
        abort(404, description=f"no target {target_id}")
    return jsonify(card)


OPENAPI["paths"].update(
    {
        "/api/targets": {
            "get": {
                "summary": "Targets as GeoJSON: ?bbox=w,s,e,n&township=&domain=&risk=&q=&limit="
                " (1,000 by default, 10,000 at most; truncated says if more matched)"
            }
        },
        "/api/targets/map": {
            "get": {
                "summary": "Targets in a viewport: ?bbox=w,s,e,n&zoom=&township=&domain="
                "&risk=&q=; grid cells below zoom 16, targets from 16 or with q"
            }
        },
        "/api/targets/{id}": {"get": {"summary": "A target's card: name, credit code, domains, township"}},
    }
)
