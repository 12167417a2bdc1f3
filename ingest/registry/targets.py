"""`lawgrid import targets|officers|devices|townships FILE`: validate every row, load the
good ones, report the bad ones with their line numbers and reasons.

This module: targets (market entities and sites), validated and upserted through COPY."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.bulk import copy_escape, copy_text, create_target_stage, pg_text_array, upsert_targets_from_staging
from geo.places import derived, queries
from geo.places.credit_code import credit_code_error
from geo.places.gcj02 import gcj02_to_wgs84
from ingest.registry.fields import KIND_WORDS, RISK_WORDS, TARGET_FIELDS, _parse_float
from ingest.tables import ImportFileError, ImportReport, read_rows, split_list


# -- targets --------------------------------------------------------------------------
def import_targets(
    session: Session,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    gcj02: bool = False,
    rejects_path: Path | None = None,
) -> ImportReport:
    report = ImportReport("targets", path)
    rows, _ = read_rows(path, TARGET_FIELDS, mapping, report.notes)
    if rows and not {"lon", "lat"} <= set(rows[0].values):
        raise ImportFileError(f"{path}: no longitude/latitude columns (经度/纬度, lon/lat) or point geometry")
    domains = queries.known_domains(session)
    zh_to_key: dict[str, str] = dict(session.execute(text("SELECT zh, key FROM domain")).all())
    outline = queries.district_outline(session)
    shapely.prepare(outline)

    good: list[dict] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.problem:
            report.reject(row.line, row.problem)
            continue
        record, reason = _validate_target(row.values, domains, zh_to_key)
        if reason:
            report.reject(row.line, reason)
            continue
        if record["key"] in seen:
            report.reject(row.line, f"duplicate key {record['key']} (first on line {seen[record['key']]})")
            continue
        seen[record["key"]] = row.line
        record["line"] = row.line
        good.append(record)

    if good:
        lon = np.array([r["lon"] for r in good])
        lat = np.array([r["lat"] for r in good])
        if gcj02:
            lon, lat = gcj02_to_wgs84(lon, lat)
        inside = shapely.contains_xy(outline, lon, lat)
        kept = []
        for record, x, y, ok in zip(good, lon, lat, inside, strict=True):
            if not ok:
                report.reject(record["line"], f"coordinates ({x:.6f}, {y:.6f}) are outside Binhai New Area")
                continue
            record["lon"], record["lat"] = round(float(x), 7), round(float(y), 7)
            kept.append(record)
        good = kept

    if good:
        create_target_stage(session)
        copy_text(
            session,
            "target_stage",
            ("key", "credit_code", "name", "kind", "domains", "risk_level", "address", "geom"),
            [
                "".join(
                    "\t".join(
                        [
                            copy_escape(r["key"]),
                            copy_escape(r["credit_code"]),
                            copy_escape(r["name"]),
                            r["kind"],
                            pg_text_array(r["domains"]),
                            str(r["risk_level"]),
                            copy_escape(r["address"]),
                            f"SRID=4326;POINT({r['lon']} {r['lat']})",
                        ]
                    )
                    + "\n"
                    for r in good
                )
            ],
        )
        counts = upsert_targets_from_staging(session)
        report.inserted, report.updated = counts["inserted"], counts["updated"]
        report.loaded = len(good)
        derived.registry_changed(session)  # the map's cells and coverage facts follow the registry
    report.write_rejects(rejects_path)
    return report


def _validate_target(values: dict, domains: set[str], zh_to_key: dict[str, str]) -> tuple[dict, str | None]:
    name = values.get("name")
    if not name:
        return {}, "name is empty"
    credit = values.get("credit_code")
    credit = str(credit).upper() if credit else None
    site_code = values.get("site_code")
    kind_word = str(values.get("kind") or ("entity" if credit else "site")).lower()
    kind = KIND_WORDS.get(kind_word)
    if kind is None:
        return {}, f"kind {values.get('kind')!r} is neither entity (企业) nor site (场所)"
    if kind == "entity" or credit:
        error = credit_code_error(credit)
        if error:
            return {}, error
    if kind == "entity":
        key = credit
    elif site_code:
        key = f"SITE-{site_code}"
    else:
        return {}, "a site needs a site code (场所编号)"
    target_domains = []
    for word in split_list(values.get("domains")):
        key_word = word if word in domains else zh_to_key.get(word)
        if key_word is None:
            return {}, f"unknown domain {word!r}"
        target_domains.append(key_word)
    if not target_domains:
        return {}, "no enforcement domain given"
    risk_raw = values.get("risk_level")
    risk = RISK_WORDS.get(str(risk_raw).lower()) if risk_raw is not None else 1
    if risk is None:
        number = _parse_float(risk_raw)
        risk = int(number) if number is not None and number.is_integer() else None
    if risk not in (1, 2, 3, 4):
        return {}, f"risk level {risk_raw} is not 1-4 (低/中/高/极高)"
    lon, lat = _parse_float(values.get("lon")), _parse_float(values.get("lat"))
    if lon is None or lat is None:
        return {}, "longitude and latitude must be numbers"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return {}, f"coordinates ({lon}, {lat}) are not longitude/latitude in degrees"
    return dict(
        key=key,
        credit_code=credit,
        name=str(name),
        kind=kind,
        domains=sorted(set(target_domains)),
        risk_level=risk,
        address=values.get("address"),
        lon=lon,
        lat=lat,
    ), None
