"""Migrations on a fresh database, and the guarantees the schema itself gives."""

import datetime as dt

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo.infra import db


def test_upgrade_downgrade_upgrade_on_a_fresh_database(databases):
    url = databases.fresh("lawgrid_migrations")
    db.upgrade(url)
    engine = db.make_engine(url)
    assert db.current_revision(engine) == db.head_revision()
    db.downgrade(url, "base")
    assert "target" not in inspect(engine).get_table_names()
    db.upgrade(url)
    assert "target" in inspect(engine).get_table_names()
    engine.dispose()


def test_alembic_gets_no_metadata_to_autogenerate_drops_from():
    from geo.infra.db import MIGRATIONS

    env = (MIGRATIONS / "env.py").read_text()
    assert "target_metadata=None" in env and "Base.metadata" not in env


def test_spatial_indexes_exist(session):
    indexes = {
        r[0]: r[1]
        for r in session.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
    }
    assert "USING gist (geom)" in indexes["target_geom_gist"]
    assert "geography" in indexes["target_geog_gist"]
    assert "USING gist (geom)" in indexes["township_geom_gist"]
    srid = session.execute(text("SELECT Find_SRID('public', 'target', 'geom')")).scalar()
    assert srid == 4326


def test_metre_distances_use_the_geography_index(session):
    plan = "\n".join(
        r[0]
        for r in session.execute(
            text(
                "EXPLAIN SELECT id FROM target WHERE ST_DWithin(geom::geography, "
                "ST_SetSRID(ST_MakePoint(117.66, 39.02), 4326)::geography, 500)"
            )
        )
    )
    assert "target_geog_gist" in plan


def test_audit_log_is_append_only(session):
    session.execute(text("INSERT INTO audit_log (actor, action, subject) VALUES ('admin', 'login', 'web')"))
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM audit_log"))
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("TRUNCATE audit_log"))
    assert session.execute(text("SELECT count(*) FROM audit_log WHERE actor = 'admin'")).scalar() == 1


def test_positions_land_in_their_month_partition(session):
    device = session.execute(text("SELECT id FROM device LIMIT 1")).scalar_one()
    now = dt.datetime.now(dt.UTC)
    session.execute(text("SELECT lawgrid_ensure_position_partitions(:t, 1)"), {"t": now})
    session.execute(
        text(
            "INSERT INTO position (device_id, fix_time, geom) "
            "VALUES (:d, :t, ST_SetSRID(ST_MakePoint(117.66, 39.02), 4326))"
        ),
        {"d": device, "t": now},
    )
    part = session.execute(
        text("SELECT tableoid::regclass::text FROM position WHERE device_id = :d"), {"d": device}
    ).scalar()
    assert part == f"position_{now:%Y%m}"


def test_target_rejects_a_malformed_credit_code(session):
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO target (key, credit_code, name, kind, domains, risk_level, geom) "
                    "VALUES ('91O', '91O', 'x', 'entity', '{health}', 1, "
                    "ST_SetSRID(ST_MakePoint(117.66, 39.02), 4326))"
                )
            )
