"""Position partitions are looked after by ingest once a day (the clock is injected): next
month's exists before it starts, months past the retention are dropped, the default
partition is watched, and all of it works as the app role, which owns no table."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.infra import db
from ingest.service import IngestConfig, IngestService


@pytest.fixture(scope="module")
def partition_db(databases):
    """A database of its own: the test moves the calendar years ahead and drops months."""
    url = databases.fresh("lawgrid_partitions")
    db.upgrade(url)
    db.grant_app_role(url, "lawgrid_app")
    return make_url(url).set(username="lawgrid_app").render_as_string(hide_password=False)


def months(engine) -> list[str]:
    with engine.connect() as c:
        return list(
            c.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'position'::regclass AND c.relname <> 'position_default' ORDER BY 1"
                )
            ).scalars()
        )


def test_partitions_ahead_retention_and_the_default_partition(partition_db, tmp_path):
    engine = db.make_engine(partition_db)  # the app role
    clock = {"now": dt.datetime(2031, 1, 20, 9, tzinfo=dt.UTC)}
    config = IngestConfig(dsn=db.raw_psycopg_url(engine), spool_path=tmp_path / "spool.jsonl", retention_months=13)
    service = IngestService(config, db.make_sessionmaker(engine), clock=lambda: clock["now"])

    first = service.maintain()
    assert first["created"] == 3 and {"position_203012", "position_203101", "position_203102"} <= set(months(engine))
    assert service.maintain() is None  # once a day

    clock["now"] = dt.datetime(2031, 2, 3, 0, 5, tzinfo=dt.UTC)  # a new day, a new month
    assert service.maintain()["created"] == 1 and "position_203103" in months(engine)

    # Years later the old months go: 13 are kept before the current one.
    clock["now"] = dt.datetime(2032, 3, 10, tzinfo=dt.UTC)
    done = service.maintain()
    kept = months(engine)
    assert done["kept_from"] == dt.datetime(2031, 2, 1, tzinfo=dt.UTC)
    assert "position_203012" in done["dropped"] and "position_203101" in done["dropped"]
    assert "position_203102" in kept and "position_203204" in kept
    assert all(name >= "position_203102" for name in kept)

    # A fix for a month with no partition lands in the default one: reported, not ignored.
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier) VALUES ('terminal', 'osmand', 'part-test') "
                "ON CONFLICT DO NOTHING"
            )
        )
        device = c.execute(text("SELECT id FROM device WHERE identifier = 'part-test'")).scalar()
        c.execute(
            text(
                "INSERT INTO position (device_id, fix_time, received_at, geom) VALUES (:d, :t, now(), "
                "ST_SetSRID(ST_MakePoint(117.6, 39.0), 4326))"
            ),
            {"d": device, "t": dt.datetime(2045, 1, 1, tzinfo=dt.UTC)},
        )
    clock["now"] = dt.datetime(2032, 3, 11, tzinfo=dt.UTC)
    assert service.maintain()["default_rows"] == 1
    assert service.ctx.counters["partitions:default_not_empty"] == 1
    engine.dispose()
