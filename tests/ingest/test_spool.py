"""Durability: with PostGIS stopped, acknowledged fixes wait in the spool and are written
once, in order, when it returns, even across a pipeline restart."""

import asyncio
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from demo.seed import seed_organisation
from geo.infra import db
from geo.places.reference import load_reference
from geo.telemetry.positions import Fix
from ingest.pipeline import Pipeline
from lawgrid.embedded_db import EmbeddedCluster
from lawgrid.runtime import REFERENCE_DIR
from tests.webutil import run_async


@pytest.fixture
def own_cluster():
    root = Path(tempfile.mkdtemp(prefix="lawgrid-spool-", dir="/tmp"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root)
    url = cluster.start()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=3, seed=1)
    yield cluster, engine, root
    engine.dispose()
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


def fixes(device_id, start, n, offset=0):
    return [
        Fix(
            device_id=device_id,
            fix_time=start + dt.timedelta(seconds=offset + i),
            lat=39.0 + (offset + i) / 10_000,
            lon=117.6,
            received_at=start,
        )
        for i in range(n)
    ]


def test_database_stop_and_start_loses_and_duplicates_nothing(own_cluster, tmp_path):
    cluster, engine, _ = own_cluster
    dsn = db.raw_psycopg_url(engine)
    spool = tmp_path / "spool.jsonl"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)

    async def scenario():
        first = Pipeline(dsn, spool, retry_s=0.2)
        await first.start()
        await first.submit(fixes(1, start, 10))  # database up: committed
        engine.dispose()
        cluster.stop()
        await first.submit(fixes(1, start, 10, offset=10))  # down: spooled, still acknowledged
        await first.submit(fixes(1, start, 5, offset=20))
        assert len(first.spool) == 2
        await first.stop()  # the listener restarts while the database is still down

        cluster.start()
        second = Pipeline(dsn, spool, retry_s=0.2)
        await second.start()
        await second.submit(fixes(1, start, 5, offset=25))  # new fixes wait behind the spool
        deadline = time.monotonic() + 10
        while len(second.spool) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stats = dict(second.stats)
        await second.stop()
        return stats

    stats = run_async(scenario())
    with engine.connect() as c:
        rows = c.execute(text("SELECT fix_time FROM position WHERE device_id = 1 ORDER BY fix_time")).scalars().all()
    assert len(rows) == 30 == len(set(rows))
    assert rows[0] == start and rows[-1] == start + dt.timedelta(seconds=29)
    assert stats["replayed"] == 15


def test_replaying_the_same_spool_twice_stores_nothing_twice(own_cluster, tmp_path):
    _, engine, _ = own_cluster
    dsn = db.raw_psycopg_url(engine)
    spool_path = tmp_path / "spool.jsonl"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=3)

    async def scenario():
        p = Pipeline(dsn, spool_path)
        batch = fixes(2, start, 4)
        p.spool.append(batch)
        p._replay()
        p.spool.append(batch)  # as if the process died after commit, before truncation
        p._replay()
        stats = dict(p.stats)
        await p.stop()
        return stats

    stats = run_async(scenario())
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM position WHERE device_id = 2")).scalar()
    assert n == 4 and stats["duplicates"] == 4


def test_the_spool_is_replayed_when_the_database_returns_without_any_traffic(own_cluster, tmp_path):
    """Devices that moved to another listener send nothing here: the spool is written back as
    soon as the database answers, not when a device next reaches this listener."""
    from tests.webutil import PATIENCE_S

    cluster, engine, _ = own_cluster
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)

    def stored() -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM position WHERE device_id = 1")).scalar()

    async def outage():
        pipeline = Pipeline(db.raw_psycopg_url(engine), tmp_path / "spool.jsonl", retry_s=0.2)
        await pipeline.start()
        try:
            engine.dispose()
            await asyncio.to_thread(cluster.stop)
            await pipeline.submit(fixes(1, start, 12))  # acknowledged from the spool
            assert len(pipeline.spool) == 1
            await asyncio.to_thread(cluster.start)  # and then nothing more is sent
            deadline = time.monotonic() + PATIENCE_S
            while time.monotonic() < deadline and await asyncio.to_thread(stored) < 12:
                await asyncio.sleep(0.1)
            return await asyncio.to_thread(stored), len(pipeline.spool)
        finally:
            await pipeline.stop()

    assert run_async(outage()) == (12, 0)  # written back with no device sending, the spool emptied


def test_a_listener_started_during_an_outage_serves_known_devices_from_its_snapshot(own_cluster, tmp_path):
    """The registry read at the last start is kept (its owner's only); a listener starting while
    the database is down serves the devices it knew and spools their fixes, written back when
    the database returns, and reads the registry again then."""
    import os
    import stat

    from ingest.devices import OsmAndPhone
    from ingest.service import IngestConfig, IngestService
    from tests.webutil import PATIENCE_S

    cluster, engine, _ = own_cluster
    with engine.connect() as c:
        device_id, ident, key = c.execute(
            text("SELECT id, identifier, device_key FROM device WHERE protocol = 'osmand' ORDER BY id LIMIT 1")
        ).one()
    config = IngestConfig(
        dsn=db.raw_psycopg_url(engine),
        spool_path=tmp_path / "spool.jsonl",
        host="127.0.0.1",
        jt808_port=0,
        osmand_port=0,
        sweep_every_s=0.2,
    )

    async def first_start():  # the database is up: the registry is read and its snapshot kept
        service = IngestService(config, db.make_sessionmaker(engine))
        await service.start()
        await service.stop()

    run_async(first_start())
    snapshot = tmp_path / "spool.registry.json"
    assert snapshot.exists() and stat.S_IMODE(os.stat(snapshot).st_mode) == 0o600
    engine.dispose()
    cluster.stop()
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)

    async def during_outage():
        service = IngestService(config, db.make_sessionmaker(engine))
        await service.start()
        try:
            phone = OsmAndPhone(ident, "127.0.0.1", service.osmand.port, key=key)
            answer = await phone.position(39.02, 117.65, when=when)
            stranger = await OsmAndPhone("never-registered", "127.0.0.1", service.osmand.port).position(39.0, 117.6)
            await phone.close()
            assert answer[0] == 200 and stranger[0] == 403  # known: served and spooled; unknown: refused
            assert service.ctx.from_snapshot and service.stats()["ingest:registry_from_snapshot"] == 1
            await asyncio.to_thread(cluster.start)
            deadline = time.monotonic() + PATIENCE_S
            while time.monotonic() < deadline and (
                service.ctx.from_snapshot or not await asyncio.to_thread(stored, device_id)
            ):
                await asyncio.sleep(0.1)
            return service.ctx.from_snapshot, await asyncio.to_thread(stored, device_id)
        finally:
            await service.stop()

    def stored(device: int) -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM position WHERE device_id = :d"), {"d": device}).scalar()

    still_snapshot, written = run_async(during_outage())
    assert written == 1  # the fix spooled during the outage, written back with no device sending
    assert not still_snapshot  # the registry read again once the database answered
