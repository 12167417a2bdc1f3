"""Reference data: the district outline, the 26 township-level units, the enforcement
domains and the ten power types, loaded from data/reference (see SOURCES.md there)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases import workdays
from geo.places.tiling import as_multipolygon, voronoi_tiling

DISTRICT_ADCODE = "120116"


@dataclass(frozen=True)
class TownshipRow:
    code: str
    code_12: str
    name: str
    kind: str
    lon: float
    lat: float
    centre_source: str


def read_outline(reference_dir: Path) -> tuple[BaseGeometry, dict[str, Any]]:
    doc = json.loads((reference_dir / "district_outline.geojson").read_text(encoding="utf-8"))
    feature = doc["features"][0]
    return shape(feature["geometry"]), feature["properties"]


def read_townships(reference_dir: Path) -> list[TownshipRow]:
    with open(reference_dir / "townships.csv", encoding="utf-8", newline="") as f:
        return [
            TownshipRow(
                r["code_9"], r["code_12"], r["name"], r["kind"], float(r["lon"]), float(r["lat"]), r["centre_source"]
            )
            for r in csv.DictReader(f)
        ]


def read_taxonomy(reference_dir: Path) -> dict[str, Any]:
    taxonomy: dict[str, Any] = json.loads((reference_dir / "taxonomy.json").read_text(encoding="utf-8"))
    return taxonomy


DOMAIN_EN = {
    "market_regulation": "Market regulation",
    "ecology_environment": "Ecology and environment",
    "cultural_market": "Culture market",
    "transport": "Transport",
    "agriculture": "Agriculture",
    "emergency_management": "Emergency management",
    "urban_management": "Urban management",
    "health": "Health",
    "natural_resources": "Natural resources",
    "water": "Water",
    "street_town_comprehensive": "Town comprehensive enforcement",
}


def domain_rows(taxonomy: dict[str, Any]) -> list[dict[str, Any]]:
    domains = taxonomy["enforcement_domains"]
    rows = [dict(key=d["key"], zh=d["zh"], core=True) for d in domains["five_core"]]
    rows += [dict(key=d["key"], zh=d["zh"], core=False) for d in domains["other_domains_commonly_listed"]]
    for row in rows:
        row["en"] = DOMAIN_EN.get(row["key"], row["key"].replace("_", " ").capitalize())
    return rows


def load_reference(session: Session, reference_dir: Path, *, replace_townships: bool = False) -> dict[str, Any]:
    """Idempotent: inserts what is missing. Township polygons are derived (approximate)
    unless real ones were imported; replace_townships re-derives them anyway."""
    outline, props = read_outline(reference_dir)
    outline = as_multipolygon(shapely.set_precision(outline, 1e-7))
    session.execute(
        text(
            "INSERT INTO district (adcode, name, source, geom) VALUES "
            "(:adcode, :name, :source, ST_GeomFromText(:wkt, 4326)) "
            "ON CONFLICT (adcode) DO UPDATE SET geom = EXCLUDED.geom, source = EXCLUDED.source"
        ),
        dict(
            adcode=DISTRICT_ADCODE, name=props.get("name", "滨海新区"), source=props.get("source", ""), wkt=outline.wkt
        ),
    )
    townships = read_townships(reference_dir)
    cells = voronoi_tiling(outline, [(t.lon, t.lat) for t in townships])
    upsert = (
        "INSERT INTO township (code, code_12, name, kind, approximate, source, centre, geom) "
        "VALUES (:code, :code_12, :name, :kind, true, :source, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), ST_GeomFromText(:wkt, 4326)) "
        "ON CONFLICT (code) DO "
        + (
            "UPDATE SET geom = EXCLUDED.geom, approximate = true, source = EXCLUDED.source"
            if replace_townships
            else "NOTHING"
        )
    )
    for t, cell in zip(townships, cells, strict=True):
        session.execute(
            text(upsert),
            dict(
                code=t.code,
                code_12=t.code_12,
                name=t.name,
                kind=t.kind,
                lon=t.lon,
                lat=t.lat,
                wkt=cell.wkt,
                source=f"approximate: Voronoi cell of the centre ({t.centre_source}) "
                "clipped to the 天地图 district outline",
            ),
        )
    taxonomy = read_taxonomy(reference_dir)
    for row in domain_rows(taxonomy):
        session.execute(
            text("INSERT INTO domain (key, zh, en, core) VALUES (:key, :zh, :en, :core) ON CONFLICT (key) DO NOTHING"),
            row,
        )
    for item in taxonomy["power_types"]["items"]:
        session.execute(
            text(
                "INSERT INTO power_type (key, zh, en, law) VALUES (:key, :zh, :en, :law) ON CONFLICT (key) DO NOTHING"
            ),
            dict(key=item["key"], zh=item["zh"], en=item["en"], law=item["law"]),
        )
    return {
        "townships": len(townships),
        "domains": len(domain_rows(taxonomy)),
        "power_types": len(taxonomy["power_types"]["items"]),
        "calendar_days": workdays.seed(session),
        "provisional_days": workdays.ensure_provisional(session),
    }
