"""Derived data follows the registry: after a township import the map's counts, /api/townships
and coverage equal a recount from the raw tables; two inspections of one target completed
in overlapping transactions count it once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage import counts
from geo.coverage.model import Window
from geo.dispatch import tasks
from geo.infra.timezone import today
from geo.places import queries, target_map
from ingest.registry.townships import import_townships


def recount(session) -> dict[str, int]:
    return dict(
        session.execute(
            text("SELECT township_code, count(*) FROM target WHERE township_code IS NOT NULL GROUP BY 1")
        ).all()
    )


def test_township_import_moves_targets_and_every_derived_count(session, tmp_path):
    # A target outside 120116053 (a higher code, so the new box wins where both cover it).
    tid, lon, lat, before = session.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom), township_code FROM target "
            "WHERE township_code > '120116053' ORDER BY id LIMIT 1"
        )
    ).one()
    box = shapely.box(lon - 0.004, lat - 0.004, lon + 0.004, lat + 0.004)
    path = tmp_path / "towns.gpkg"
    gpd.GeoDataFrame({"code": ["120116053"]}, geometry=[box], crs=4326).to_file(path)
    inside = set(
        session.execute(
            text("SELECT id FROM target WHERE ST_Covers(ST_GeomFromText(:b, 4326), geom)"), {"b": box.wkt}
        ).scalars()
    )
    report = import_townships(session, path)
    assert report.loaded == 1
    moved = dict(
        session.execute(text("SELECT id, township_code FROM target WHERE id = ANY(:ids)"), {"ids": list(inside)}).all()
    )
    assert moved[tid] == "120116053" and before != "120116053"
    assert set(moved.values()) == {"120116053"}  # every target inside the box, and only the box's code
    truth = recount(session)
    assert truth["120116053"] == len(inside)
    cells = dict(
        session.execute(
            text(
                "SELECT township_code, sum(n) FROM target_cell WHERE level = :top "
                "AND township_code IS NOT NULL GROUP BY 1"
            ),
            {"top": target_map.LEVELS - 1},
        ).all()
    )
    assert cells == truth
    api = {f["id"]: f["properties"]["targets"] for f in queries.townships_geojson(session)["features"]}
    assert {k: v for k, v in api.items() if v} == truth
    window = Window(today() - dt.timedelta(days=400), today())
    figures = {g["key"]: (g["numerator"], g["denominator"]) for g in counts.coverage(session, "township", window)}
    assert figures == counts.brute_force(session, "township", window)
    assert figures["120116053"][1] == len(inside)


def _on_site_pair(engine) -> tuple[int, list[int]]:
    """Two on-site inspections of one target never inspected before, committed."""
    with Session(engine) as s:
        target_id, domain, unit_id = s.execute(
            text(
                """SELECT t.id, t.domains[1], p.unit_id FROM target t
                   JOIN power_item p ON p.domain_key = t.domains[1]
                   WHERE NOT EXISTS (SELECT 1 FROM inspection i WHERE i.target_id = t.id)
                   ORDER BY t.id DESC LIMIT 1"""
            )
        ).one()
        ids = list(
            s.execute(
                text(
                    """INSERT INTO inspection (target_id, domain_key, source, due_at, created_by, status, unit_id,
                                               on_site_at)
                       SELECT :t, :d, 'api', now() + interval '1 day', 'race-test', 'on_site', :u, now()
                       FROM generate_series(1, 2) RETURNING id"""
                ),
                {"t": target_id, "d": domain, "u": unit_id},
            ).scalars()
        )
        s.commit()
    return target_id, ids


def _remove(engine, ids: list[int]) -> None:
    with Session(engine) as s:
        for table in ("coverage_officer_fact", "coverage_fact", "inspection_event", "inspection_officer"):
            s.execute(text(f"DELETE FROM {table} WHERE inspection_id = ANY(:i)"), {"i": ids})
        s.execute(text("DELETE FROM inspection WHERE id = ANY(:i)"), {"i": ids})
        s.commit()


def test_two_concurrent_completions_of_one_target_count_once(engine):
    target_id, ids = _on_site_pair(engine)
    first, second = Session(engine), Session(engine)
    errors: list[BaseException] = []

    def complete_second():
        try:
            tasks.transition(second, ids[1], "completed", "race-b", result="violation", reason="test")
            second.commit()
        except BaseException as exc:
            errors.append(exc)

    try:
        tasks.transition(first, ids[0], "completed", "race-a", result="compliant", reason="test")  # not yet committed
        racer = threading.Thread(target=complete_second, daemon=True)
        racer.start()
        deadline = time.monotonic() + 10
        with engine.connect() as watch:  # until the second has finished or waits on a lock
            while racer.is_alive() and not watch.execute(text("SELECT 1 FROM pg_locks WHERE NOT granted")).first():
                assert time.monotonic() < deadline, "the second completion neither finished nor waited"
                time.sleep(0.02)
        first.commit()
        racer.join(10)
        assert not racer.is_alive() and not errors, errors
        with Session(engine) as s:
            firsts = s.execute(
                text("SELECT count(*) FROM coverage_fact WHERE target_id = :t AND prev_any IS NULL"), {"t": target_id}
            ).scalar()
            assert firsts == 1  # the target is counted once, not once per completion
            window = Window(today(), today())
            fast = {g["key"]: g["numerator"] for g in counts.coverage(s, "district", window)}
            slow = {k: v[0] for k, v in counts.brute_force(s, "district", window).items()}
            assert fast == slow
    finally:
        first.rollback()
        first.close()
        second.rollback()
        second.close()
        _remove(engine, ids)
