"""Approximate township polygons: Voronoi cells of the township centres clipped to the
district outline. They tile the outline exactly (no gaps, no overlaps) and are marked
approximate wherever they are shown, until real polygons are imported."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GRID = 1e-7  # ~1 cm: snapping to one grid keeps shared edges identical


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polygons = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(polygons)


def voronoi_tiling(outline: BaseGeometry, centres: list[tuple[float, float]]) -> list[MultiPolygon]:
    """One cell per centre, in the order given, together covering exactly the outline."""
    outline = shapely.set_precision(outline, GRID)
    cells = shapely.voronoi_polygons(MultiPoint(centres), extend_to=outline.envelope.buffer(1))
    by_centre = []
    points = shapely.points(centres)
    cell_list = list(cells.geoms)
    for point in points:
        cell = next(c for c in cell_list if c.covers(point))
        by_centre.append(cell)
    clipped = [as_multipolygon(shapely.intersection(outline, cell, grid_size=GRID)) for cell in by_centre]
    return clipped
