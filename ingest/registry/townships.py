"""`lawgrid import townships FILE`: real township polygons replacing the approximate ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.places import derived, queries
from geo.places.gcj02 import gcj02_to_wgs84
from geo.places.tiling import as_multipolygon
from ingest.registry.fields import TOWNSHIP_FIELDS
from ingest.tables import ImportFileError, ImportReport, apply_mapping


# -- townships ------------------------------------------------------------------------
def import_townships(
    session: Session,
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    gcj02: bool = False,
    rejects_path: Path | None = None,
) -> ImportReport:
    """Replace township polygons with real ones; targets are re-joined to the new polygons."""
    import geopandas as gpd

    report = ImportReport("townships", path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise ImportFileError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    if gdf.crs is None:
        report.notes.append("file has no CRS; assumed EPSG:4326")
    elif gdf.crs.to_epsg() != 4326:
        report.notes.append(f"reprojected from {gdf.crs.to_string()} to EPSG:4326")
        gdf = gdf.to_crs(4326)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    col_map = apply_mapping(columns, TOWNSHIP_FIELDS, mapping)
    code_col = next((c for c, f in col_map.items() if f == "code"), None)
    if code_col is None:
        raise ImportFileError(f"{path}: no township code column (code, code_9, code_12, 区划代码)")
    known = queries.township_names(session)
    replaced = []
    for i, (code_raw, geom) in enumerate(zip(gdf[code_col], gdf.geometry, strict=True), start=1):
        code = str(code_raw).strip()[:9] if code_raw is not None else ""
        if code not in known:
            report.reject(i, f"township code {code_raw!r} is not one of Binhai's 26 NBS codes")
            continue
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            report.reject(i, f"township {code} has no polygon geometry")
            continue
        if gcj02:
            geom = shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            report.notes.append(f"township {code}: invalid polygon repaired")
        replaced.append((code, as_multipolygon(geom)))
    for code, geom in replaced:
        session.execute(
            text(
                "UPDATE township SET geom = ST_GeomFromText(:wkt, 4326), approximate = false, "
                "source = :src WHERE code = :code"
            ),
            dict(wkt=geom.wkt, src=f"imported from {path.name}", code=code),
        )
    if replaced:
        moved = session.execute(  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            text(
                """
            UPDATE target t SET township_code = j.code
            FROM (SELECT t2.id, (SELECT code FROM township w WHERE ST_Covers(w.geom, t2.geom)
                                 ORDER BY code LIMIT 1) AS code FROM target t2) j
            WHERE j.id = t.id AND t.township_code IS DISTINCT FROM j.code
            """
            )
        ).rowcount
        report.notes.append(f"{moved} targets re-assigned to their new township")
        derived.registry_changed(session)
    report.loaded = report.updated = len(replaced)
    report.write_rejects(rejects_path)
    return report
