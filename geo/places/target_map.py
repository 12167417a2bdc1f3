"""The targets layer of the command map at any scale, up to millions of targets.

Below zoom 16 the map shows grid cells from `target_cell`, a pyramid rebuilt after every
seed or import: level 0 cells are 0.0025° (about 250 m), each level doubles the size. A
viewport then reads a few thousand pre-aggregated rows instead of scanning the targets.
From zoom 16, or for a text search, it shows the targets themselves.

Every query renders its GeoJSON inside PostgreSQL, so the web process only passes text on.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import errors

BASE_CELL_DEG = 0.0025
LEVELS = 6
POINTS_FROM_ZOOM = 16
POINT_LIMIT = 5000
SEARCH_LIMIT = 200
MAX_BBOX_DEG = 5.0


class BadViewport(errors.InvalidInput):
    """A viewport or filter that cannot be drawn (HTTP 400)."""


@dataclass
class TargetFilter:
    townships: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    risks: list[int] = field(default_factory=list)
    q: str = ""

    def __post_init__(self) -> None:
        for code in self.townships:
            if not re.fullmatch(r"120116\d{3}", code):
                raise BadViewport(f"township {code!r} is not a 9-digit Binhai township code")
        for risk in self.risks:
            if risk not in (1, 2, 3, 4):
                raise BadViewport(f"risk must be between 1 and 4, got {risk}")
        self.q = self.q.strip()[:100]


def level_for_zoom(zoom: int) -> int | None:
    """Grid level for a web-map zoom (cells of roughly 40-60 px); None: show targets."""
    if zoom >= POINTS_FROM_ZOOM:
        return None
    return max(0, min(LEVELS - 1, 15 - zoom))


def cell_size(level: int) -> float:
    return BASE_CELL_DEG * (1 << level)


REFRESH_LOCK = 0x4C47_0002  # advisory-lock namespace: one cell refresh at a time ("LG" 2)


def refresh_target_cells(session: Session) -> int:
    """Rebuild the pyramid from the target table; returns the number of targets counted.

    The new cells are built in target_cell_next while readers keep using target_cell; the
    swap (drop, rename) is the last statement, so readers wait only from it to the commit.
    Call it through geo.derived.registry_changed."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK})
    keys = list(session.execute(text("SELECT key FROM domain ORDER BY key")).scalars())
    session.execute(text("DROP TABLE IF EXISTS target_cell_next"))
    session.execute(text("CREATE TABLE target_cell_next (LIKE target_cell INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    session.execute(
        text(
            """
        INSERT INTO target_cell_next (level, cx, cy, township_code, risk_level, domain_mask, n, sum_x, sum_y)
        SELECT 0, floor(ST_X(geom) / :size)::int, floor(ST_Y(geom) / :size)::int, township_code,
               risk_level, m.mask, count(*), sum(ST_X(geom)), sum(ST_Y(geom))
        FROM target t
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(DISTINCT 1::bigint << (array_position(CAST(:keys AS text[]), d) - 1)), 0) AS mask
            FROM unnest(t.domains) d WHERE array_position(CAST(:keys AS text[]), d) IS NOT NULL) m
        GROUP BY 2, 3, 4, 5, 6
        """
        ),
        {"size": BASE_CELL_DEG, "keys": keys},
    )
    for level in range(1, LEVELS):
        # Cells nest: a coarser cell index is the finer one shifted right by one bit.
        session.execute(
            text(
                """
            INSERT INTO target_cell_next (level, cx, cy, township_code, risk_level, domain_mask, n, sum_x, sum_y)
            SELECT :level, cx >> 1, cy >> 1, township_code, risk_level, domain_mask, sum(n), sum(sum_x), sum(sum_y)
            FROM target_cell_next WHERE level = :level - 1
            GROUP BY 2, 3, 4, 5, 6
            """
            ),
            {"level": level},
        )
    total = session.execute(text("SELECT coalesce(sum(n), 0) FROM target_cell_next WHERE level = 0")).scalar_one()
    session.execute(text("CREATE INDEX target_cell_next_xy ON target_cell_next (level, cx, cy)"))
    session.execute(text("ANALYZE target_cell_next"))
    session.execute(
        text(
            """
        INSERT INTO target_cell_meta (domain_keys, targets, refreshed_at) VALUES (:keys, :n, now())
        ON CONFLICT (id) DO UPDATE SET domain_keys = EXCLUDED.domain_keys, targets = EXCLUDED.targets,
                                       refreshed_at = EXCLUDED.refreshed_at
        """
        ),
        {"keys": keys, "n": total},
    )
    session.execute(
        text(
            "DROP TABLE target_cell; ALTER TABLE target_cell_next RENAME TO target_cell; "
            "ALTER INDEX target_cell_next_xy RENAME TO target_cell_level_xy"
        )
    )
    return int(total)


def domain_keys(session: Session) -> list[str]:
    keys = session.execute(text("SELECT domain_keys FROM target_cell_meta")).scalar()
    return list(keys or [])


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except (AttributeError, ValueError):
        raise BadViewport("bbox must be west,south,east,north in degrees") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or w >= e or s >= n:
        raise BadViewport("bbox must be west,south,east,north with west < east and south < north")
    if e - w > MAX_BBOX_DEG or n - s > MAX_BBOX_DEG:
        raise BadViewport(f"bbox is larger than {MAX_BBOX_DEG}° on a side")
    return w, s, e, n


def viewport_sql(
    session: Session,
    bbox: tuple[float, float, float, float],
    zoom: int,
    flt: TargetFilter,
    point_limit: int = POINT_LIMIT,
) -> tuple[str, dict[str, Any]]:
    """The statement and parameters behind one viewport (also run bare by the benchmark)."""
    if flt.q:
        return SEARCH_SQL, _search_params(flt)
    level = level_for_zoom(zoom)
    w, s, e, n = bbox
    common = {"towns": flt.townships, "risks": flt.risks, "domains": flt.domains}
    if level is None:
        return POINTS_SQL, {**common, "w": w, "s": s, "e": e, "n": n, "limit": point_limit}
    keys = domain_keys(session)
    unknown = [d for d in flt.domains if d not in keys]
    if unknown:
        raise BadViewport(f"unknown domain(s): {', '.join(unknown)}")
    mask = sum(1 << keys.index(d) for d in flt.domains)
    size = cell_size(level)
    return CELLS_SQL, {
        **common,
        "level": level,
        "mask": mask,
        "keys": keys,
        "x0": math.floor(w / size),
        "x1": math.floor(e / size),
        "y0": math.floor(s / size),
        "y1": math.floor(n / size),
    }


def viewport_geojson(
    session: Session,
    bbox: tuple[float, float, float, float],
    zoom: int,
    flt: TargetFilter,
    point_limit: int = POINT_LIMIT,
) -> str:
    """GeoJSON of a viewport: at most point_limit targets, `truncated` when there are more."""
    sql, params = viewport_sql(session, bbox, zoom, flt, point_limit)
    return str(session.execute(text(sql), params).scalar_one())


def cells_etag(session: Session, bbox: tuple[float, float, float, float], zoom: int, flt: TargetFilter) -> str | None:
    """A strong ETag for a cells answer, from the pyramid's refresh time and the question
    (None for an answer of targets, which follow the target table itself)."""
    if flt.q or level_for_zoom(zoom) is None:
        return None
    refreshed = session.execute(text("SELECT max(refreshed_at) FROM target_cell_meta")).scalar_one()
    question = json.dumps([str(refreshed), bbox, zoom, sorted(flt.townships), sorted(flt.domains), sorted(flt.risks)])
    return "cells-" + hashlib.sha256(question.encode()).hexdigest()[:32]


def answer_header(body: str) -> dict[str, Any]:
    """The viewport answer's own fields (mode, truncated, limit, level), read from the text
    before its features without parsing them: every key precedes "features"."""
    head = body[: body.find('"features"')].rstrip(" ,")
    return json.loads(head + "}") if head.startswith("{") else {}


def _search_params(flt: TargetFilter) -> dict[str, Any]:
    pattern = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return {
        "towns": flt.townships,
        "risks": flt.risks,
        "domains": flt.domains,
        "pattern": pattern,
        "code": flt.q.upper(),
        "limit": SEARCH_LIMIT,
    }


_FILTERS = """
    (cardinality(CAST(:towns AS text[])) = 0 OR t.township_code = ANY(CAST(:towns AS text[])))
    AND (cardinality(CAST(:risks AS int[])) = 0 OR t.risk_level = ANY(CAST(:risks AS int[])))
    AND (cardinality(CAST(:domains AS text[])) = 0 OR t.domains && CAST(:domains AS text[]))
"""

# p holds up to limit + 1 rows: the extra one only says the answer is truncated (the map then
# asks the user to zoom in); exactly `limit` features are sent.
_POINT_FEATURES = """
    SELECT json_build_object('type', 'FeatureCollection', 'mode', :mode,
        'truncated', count(*) > :limit, 'limit', :limit,
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', id,
            'geometry', json_build_object('type', 'Point', 'coordinates',
                                          json_build_array(round(x::numeric, 6), round(y::numeric, 6))),
            'properties', json_build_object('id', id, 'name', name, 'd', d, 'r', r)))
            FILTER (WHERE rn <= :limit), '[]'::json))::text
    FROM (SELECT *, row_number() OVER () AS rn FROM p) numbered
"""

POINTS_SQL = f"""
    WITH p AS (
        SELECT t.id, t.name, t.domains[1] AS d, t.risk_level AS r, ST_X(t.geom) AS x, ST_Y(t.geom) AS y
        FROM target t
        WHERE t.geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) AND {_FILTERS}
        LIMIT :limit + 1)
    {_POINT_FEATURES.replace(":mode", "'points'")}
"""

SEARCH_ROWS = f"""
        SELECT t.id, t.name, t.domains[1] AS d, t.risk_level AS r, ST_X(t.geom) AS x, ST_Y(t.geom) AS y
        FROM target t
        WHERE (t.key = :code OR t.credit_code = :code OR t.name ILIKE :pattern) AND {_FILTERS}
        ORDER BY (t.key = :code OR t.credit_code = :code) DESC, t.id
        LIMIT :limit + 1
"""

SEARCH_SQL = f"""
    WITH p AS ({SEARCH_ROWS})
    {_POINT_FEATURES.replace(":mode", "'search'")}
"""

CELLS_SQL = """
    WITH c AS (
        SELECT cx, cy, domain_mask, sum(n) AS n, sum(sum_x) AS sx, sum(sum_y) AS sy
        FROM target_cell t
        WHERE level = :level AND cx BETWEEN :x0 AND :x1 AND cy BETWEEN :y0 AND :y1
          AND (cardinality(CAST(:towns AS text[])) = 0 OR township_code = ANY(CAST(:towns AS text[])))
          AND (cardinality(CAST(:risks AS int[])) = 0 OR risk_level = ANY(CAST(:risks AS int[])))
          AND (CAST(:mask AS bigint) = 0 OR domain_mask & CAST(:mask AS bigint) <> 0)
        GROUP BY cx, cy, domain_mask),
    g AS (
        SELECT cx, cy, sum(n)::int AS n, sum(sx) / sum(n) AS x, sum(sy) / sum(n) AS y,
               (array_agg(domain_mask ORDER BY n DESC))[1] AS top
        FROM c GROUP BY cx, cy)
    SELECT json_build_object('type', 'FeatureCollection', 'mode', 'cells', 'level', CAST(:level AS int),
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'geometry', json_build_object('type', 'Point', 'coordinates',
                                          json_build_array(round(x::numeric, 5), round(y::numeric, 5))),
            'properties', json_build_object(
                'n', n,
                'd', (CAST(:keys AS text[]))[CASE WHEN top = 0 THEN NULL
                                                   ELSE floor(log(2, (top & -top)::numeric))::int + 1 END]))),
            '[]'::json))::text
    FROM g
"""


def search_extent(session: Session, flt: TargetFilter) -> tuple[float, float, float, float] | None:
    """The box around a search's results (to fly the map there), or None if nothing matched."""
    row = session.execute(
        text(f"WITH p AS ({SEARCH_ROWS}) SELECT min(x), min(y), max(x), max(y) FROM p"), _search_params(flt)
    ).one()
    return None if row[0] is None else tuple(row)


def targets_geojson(
    session: Session, flt: TargetFilter, bbox: tuple[float, float, float, float] | None = None, limit: int = 1000
) -> str:
    """Targets (all their registry fields) under the filters, optionally inside a box."""
    w, s, e, n = bbox or (-180.0, -90.0, 180.0, 90.0)
    search = _search_params(flt)
    return str(
        session.execute(
            text(f"""
        WITH p AS (
            SELECT t.* FROM target t
            WHERE t.geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) AND {_FILTERS}
              AND (:q = '' OR t.key = :code OR t.credit_code = :code OR t.name ILIKE :pattern)
            ORDER BY t.id LIMIT :limit + 1)
        SELECT json_build_object('type', 'FeatureCollection', 'truncated', count(*) > :limit,
            'features', coalesce(json_agg(json_build_object(
                'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 6)::json,
                'properties', json_build_object('id', id, 'key', key, 'credit_code', credit_code,
                    'name', name, 'kind', kind, 'domains', domains, 'risk_level', risk_level,
                    'address', address, 'township_code', township_code)) ORDER BY id)
                FILTER (WHERE rn <= :limit), '[]'::json))::text
        FROM (SELECT p.*, row_number() OVER (ORDER BY id) AS rn FROM p) p
        """),
            {**search, "q": flt.q, "w": w, "s": s, "e": e, "n": n, "limit": limit},
        ).scalar_one()
    )


def township_counts(session: Session, flt: TargetFilter) -> dict[str, int]:
    """Targets per township under the map's filters (text search aside)."""
    keys = domain_keys(session)
    mask = sum(1 << keys.index(d) for d in flt.domains if d in keys)
    rows = session.execute(
        text(
            """
        SELECT township_code, sum(n) FROM target_cell
        WHERE level = :level AND township_code IS NOT NULL
          AND (cardinality(CAST(:risks AS int[])) = 0 OR risk_level = ANY(CAST(:risks AS int[])))
          AND (CAST(:mask AS bigint) = 0 OR domain_mask & CAST(:mask AS bigint) <> 0)
        GROUP BY 1
        """
        ),
        {"level": LEVELS - 1, "risks": flt.risks, "mask": mask},
    ).all()
    return {code: int(n) for code, n in rows}


def target_card(session: Session, target_id: int) -> dict[str, Any] | None:
    row = (
        session.execute(
            text(
                """
        SELECT t.id, t.key, t.credit_code, t.name, t.kind, t.risk_level, t.address, t.township_code,
               tw.name AS township, ST_Y(t.geom) AS lat, ST_X(t.geom) AS lon, t.updated_at,
               coalesce((SELECT json_agg(json_build_object('key', d.key, 'zh', d.zh, 'en', d.en)
                                         ORDER BY array_position(t.domains, d.key))
                         FROM domain d WHERE d.key = ANY(t.domains)), '[]'::json) AS domains,
               (SELECT max(i.completed_at) FROM inspection i
                WHERE i.target_id = t.id AND i.status = 'completed') AS last_inspection,
               (SELECT count(*) FROM inspection i WHERE i.target_id = t.id
                  AND i.status NOT IN ('completed', 'cancelled')) AS open_tasks
        FROM target t LEFT JOIN township tw ON tw.code = t.township_code
        WHERE t.id = :id
        """
            ),
            {"id": target_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    card = dict(row)
    card["updated_at"] = card["updated_at"].isoformat()
    if card["last_inspection"] is not None:
        card["last_inspection"] = card["last_inspection"].isoformat()
    return card
