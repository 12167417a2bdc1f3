"""The approximate township polygons must tile the district outline exactly."""

import shapely
from sqlalchemy import text

from geo.places.reference import read_outline, read_townships
from geo.places.tiling import GRID, voronoi_tiling
from lawgrid.runtime import REFERENCE_DIR


def test_voronoi_cells_tile_the_outline_without_gaps_or_overlaps():
    outline, _ = read_outline(REFERENCE_DIR)
    townships = read_townships(REFERENCE_DIR)
    cells = voronoi_tiling(outline, [(t.lon, t.lat) for t in townships])
    assert len(cells) == 26
    assert shapely.coverage_is_valid(cells)  # no overlaps, edges match exactly
    union = shapely.union_all(cells)
    assert union.symmetric_difference(shapely.set_precision(outline, GRID)).area == 0
    for t, cell in zip(townships, cells, strict=True):
        assert cell.covers(shapely.Point(t.lon, t.lat)), t.name


def test_townships_in_postgis_tile_the_district(session):
    """Exact on the 1 cm grid the polygons are snapped to."""
    gaps, spill, overlaps, district_area = session.execute(
        text(
            """
        SELECT ST_Area(ST_Difference(d.geom, (SELECT ST_Union(geom, 1e-7) FROM township), 1e-7)),
               ST_Area(ST_Difference((SELECT ST_Union(geom, 1e-7) FROM township), d.geom, 1e-7)),
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0)
                  FROM township a JOIN township b ON a.code < b.code AND a.geom && b.geom),
               ST_Area(d.geom)
        FROM district d
        """
        )
    ).one()
    assert district_area > 0.2
    assert gaps == 0
    assert spill == 0
    assert overlaps == 0


def test_townships_carry_nbs_codes_and_are_marked_approximate(session):
    rows = session.execute(text("SELECT code, code_12, name, approximate FROM township ORDER BY code")).all()
    assert len(rows) == 26
    assert rows[0][:3] == ("120116001", "120116001000", "塘沽街道")
    assert all(r.approximate for r in rows)
    assert dict((r.code, r.name) for r in rows)["120116033"] == "茶淀街道"
