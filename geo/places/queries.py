"""Read queries over the geography and the registry. Functions take a session and return
plain Python objects (dicts, shapely geometries), never ORM rows."""

from __future__ import annotations

import json
from typing import Any

from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.places.reference import DISTRICT_ADCODE
from geo.places.target_map import LEVELS

TOP_LEVEL = LEVELS - 1  # the coarsest grid of the targets layer


def district_outline(session: Session) -> BaseGeometry:
    raw = session.execute(
        text("SELECT ST_AsBinary(geom) FROM district WHERE adcode = :a"), {"a": DISTRICT_ADCODE}
    ).scalar_one()
    return wkb.loads(bytes(raw))


def township_names(session: Session) -> dict[str, str]:
    return dict(session.execute(text("SELECT code, name FROM township ORDER BY code")).all())


def township_polygons(session: Session) -> tuple[list[str], list[BaseGeometry], dict[str, str]]:
    rows = session.execute(text("SELECT code, name, ST_AsBinary(geom) FROM township ORDER BY code")).all()
    return ([r[0] for r in rows], [wkb.loads(bytes(r[2])) for r in rows], {r[0]: r[1] for r in rows})


def townships_geojson(session: Session, *, simplify_m: float = 0.0) -> dict[str, Any]:
    """Townships with their target counts as an RFC 7946 FeatureCollection."""
    tolerance = simplify_m / 111_000.0
    rows = session.execute(
        text(
            """
            SELECT t.code, t.name, t.kind, t.approximate, t.source,
                   coalesce(c.n, 0) AS targets,
                   ST_AsGeoJSON(CASE WHEN :tol > 0 THEN ST_SimplifyPreserveTopology(t.geom, :tol)
                                     ELSE t.geom END, 6) AS geometry,
                   ST_X(t.centre) AS lon, ST_Y(t.centre) AS lat
            FROM township t
            -- counted from the map's coarsest cells (rebuilt with every seed and import):
            -- a few hundred rows instead of a scan of every target
            LEFT JOIN (SELECT township_code, sum(n) AS n FROM target_cell WHERE level = :top
                       GROUP BY township_code) c ON c.township_code = t.code
            ORDER BY t.code
            """
        ),
        {"tol": tolerance, "top": TOP_LEVEL},
    ).mappings()
    features = [
        {
            "type": "Feature",
            "id": r["code"],
            "geometry": json.loads(r["geometry"]),
            "properties": {k: r[k] for k in ("code", "name", "kind", "approximate", "source", "targets", "lon", "lat")},
        }
        for r in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def district_geojson(session: Session) -> dict[str, Any]:
    row = session.execute(
        text("SELECT name, source, ST_AsGeoJSON(geom, 6) FROM district WHERE adcode = :a"),
        {"a": DISTRICT_ADCODE},
    ).one()
    return {"type": "Feature", "geometry": json.loads(row[2]), "properties": {"name": row[0], "source": row[1]}}


def registry_counts(session: Session, scope: Scope | None = None) -> dict[str, int]:
    """Row counts; officers and devices only within the caller's units when scoped."""
    counts = {
        t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
        for t in ("township", "enforcement_unit", "enforcement_body", "power_item")
    }
    counts["target"] = session.execute(
        text(  # kept by the map's cells; no scan of the registry
            "SELECT coalesce(sum(n), 0) FROM target_cell WHERE level = :top"
        ),
        {"top": TOP_LEVEL},
    ).scalar_one()
    where, params = scope.unit_filter("o.unit_id") if scope else ("true", {})
    counts["officer"] = session.execute(text(f"SELECT count(*) FROM officer o WHERE {where}"), params).scalar_one()
    counts["device"] = session.execute(
        text(f"SELECT count(*) FROM device d JOIN officer o ON o.id = d.officer_id WHERE {where}"), params
    ).scalar_one()
    return counts


def known_domains(session: Session) -> set[str]:
    return set(session.execute(text("SELECT key FROM domain")).scalars())


def domains(session: Session) -> list[dict[str, Any]]:
    """Enforcement domains with their Chinese and English names, core domains first."""
    rows = session.execute(text("SELECT key, zh, en, core FROM domain ORDER BY NOT core, key")).mappings()
    return [dict(r) for r in rows]


def grid_geojson(rows: Any, cell_deg: float, tooltip: str) -> dict[str, Any]:
    """(cx, cy, n, k) grid counts as square GeoJSON cells for the heat maps; tooltip is a
    format string over n and k; "max" is the largest n."""
    features: list[dict[str, Any]] = []
    for cx, cy, n, k in rows:
        w, s = cx * cell_deg, cy * cell_deg
        ring = [[w, s], [w + cell_deg, s], [w + cell_deg, s + cell_deg], [w, s + cell_deg], [w, s]]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"n": n, "k": k, "tooltip": tooltip.format(n=n, k=k)},
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "max": max((f["properties"]["n"] for f in features), default=0),
    }


def units(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """(id, name) of the enforcement units in the caller's scope, by code."""
    cond, params = scope.unit_filter("id")
    rows = session.execute(text(f"SELECT id, name FROM enforcement_unit WHERE {cond} ORDER BY code"), params)
    return [(int(i), str(n)) for i, n in rows]


def unit_codes(session: Session, scope: Scope) -> list[tuple[str, str]]:
    """(code, code and name) of the enforcement units in the caller's scope, by code."""
    cond, params = scope.unit_filter("id")
    rows = session.execute(text(f"SELECT code, name FROM enforcement_unit WHERE {cond} ORDER BY code"), params)
    return [(str(c), f"{c} {n}") for c, n in rows]
