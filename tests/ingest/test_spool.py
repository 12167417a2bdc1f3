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
