"""One bad fix stops nothing: a fix the database refuses is split out of its batch into the
quarantine with its reason while its batch-mates are stored, and the writer goes on; a
number that is not one is refused by the parser, over OsmAnd JSON as over the query string."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

from sqlalchemy import text

from geo.infra import db
from geo.telemetry.positions import Fix
from ingest.jt808 import frames, messages
from ingest.pipeline import Pipeline
from tests.ingest.test_ingest import TANGGU, cleanup, positions, registered, run
from tests.webutil import phone_client, terminal


def fix(device_id: int, seconds_ago: float) -> Fix:
    now = dt.datetime.now(dt.UTC)
    return Fix(
        device_id=device_id,
        fix_time=now - dt.timedelta(seconds=seconds_ago),
        received_at=now,
        lat=TANGGU[0],
        lon=TANGGU[1],
    )


def test_a_poison_fix_is_quarantined_and_its_batch_mates_are_stored(engine, tmp_path):
    good_id, _ = registered(engine, "osmand")
    cleanup(engine, good_id)

    async def scenario():
        pipeline = Pipeline(db.raw_psycopg_url(engine), tmp_path / "spool.jsonl", batch_wait_s=0.2)
        await pipeline.start()
        # In one batch: a fix of a device that no longer exists, between two good ones.
        results = await asyncio.gather(
            pipeline.submit([fix(good_id, 30)]),
            pipeline.submit([fix(2_000_000_000, 29)]),
            pipeline.submit([fix(good_id, 28)]),
        )
        t0 = time.monotonic()
        after = await pipeline.submit([fix(good_id, 27)])  # the writer is still there
        elapsed = time.monotonic() - t0
        await pipeline.stop()
        return results, after, elapsed, pipeline

    (first, poison, third), after, elapsed, pipeline = run(scenario())
    assert first == [] and third == [] and after == []
    assert len(poison) == 1 and "ForeignKeyViolation" in poison[0]
    assert len(positions(engine, good_id)) == 3
    assert elapsed < 5
    (entry,) = pipeline.quarantine.entries()
    assert entry["fix"]["device_id"] == 2_000_000_000 and "ForeignKeyViolation" in entry["reason"]
    assert pipeline.stats["quarantined"] == 1
    cleanup(engine, good_id)


def test_a_deleted_terminal_cannot_stop_another_terminals_fixes(engine, service_factory):
    """A JT/T 808 terminal whose device row was deleted after it logged in sends a fix the
    database refuses; a second terminal's fix right after it is stored."""
    good_id, good_phone = registered(engine, "jt808")
    cleanup(engine, good_id)
    with engine.begin() as c:
        officer = c.execute(text("SELECT officer_id FROM device WHERE id = :d"), {"d": good_id}).scalar()
        doomed = c.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier, officer_id, terminal_id) "
                "VALUES ('terminal', 'jt808', '019900000001', :o, '0000001') RETURNING id"
            ),
            {"o": officer},
        ).scalar()

    async def scenario():
        service = await service_factory()
        doomed_term = terminal("019900000001", service.jt808.port)
        await doomed_term.connect()
        await doomed_term.login()
        with engine.begin() as c:
            c.execute(text("DELETE FROM device WHERE id = :d"), {"d": doomed})
        assert await doomed_term.location(*TANGGU) == frames.RESULT_FAILURE  # refused; kept for review
        good = terminal(good_phone, service.jt808.port)
        await good.connect()
        await good.login()
        t0 = time.monotonic()
        assert await good.location(*TANGGU) == frames.RESULT_OK
        elapsed = time.monotonic() - t0
        stats = service.stats()
        await doomed_term.close()
        await good.close()
        await service.stop()
        return elapsed, stats

    elapsed, stats = run(scenario())
    assert elapsed < 1.0  # stored within a second of the poison
    assert len(positions(engine, good_id)) == 1
    assert stats.get("refused:quarantined") == 1
    cleanup(engine, good_id)


def test_a_non_numeric_json_heading_is_refused_and_the_next_fix_stored(engine, service_factory):
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)

    def doc(seconds_ago, **coords):
        when = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).isoformat()
        return json.dumps(
            {
                "device_id": ident,
                "location": {"timestamp": when, "coords": {"latitude": 39.0, "longitude": 117.6, **coords}},
            }
        ).encode()

    async def scenario():
        service = await service_factory()
        phone = phone_client(ident, service.osmand.port)
        await phone.connect()
        kind = {"Content-Type": "application/json"}
        out = [
            await phone.request("POST", "/", doc(30, heading="north"), kind),
            await phone.request("POST", "/", doc(29, speed="fast"), kind),
            await phone.request("POST", "/", doc(28, heading=-1, speed=1.0), kind),
        ]
        await phone.close()
        await service.stop()
        return out

    out = run(scenario())
    assert out[0][0] == 400 and "heading must be a number" in out[0][1]
    assert out[1][0] == 400 and "speed must be a number" in out[1][1]
    assert out[2][0] == 200
    rows = positions(engine, dev_id)
    assert len(rows) == 1
    with engine.connect() as c:
        course = c.execute(text("SELECT course FROM position WHERE device_id = :d"), {"d": dev_id}).scalar()
    assert course is None  # heading -1: the phone knows no course
    cleanup(engine, dev_id)


def test_the_traccar_client_as_it_behaves(engine, service_factory):
    """Its queue moves on past a fix LawGrid will not store; any path, location=lat,lon and
    position-less heartbeats are understood; impossible timestamps are malformed (400)."""
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    now = dt.datetime.now(dt.UTC)

    async def scenario():
        service = await service_factory()
        phone = phone_client(ident, service.osmand.port)
        await phone.connect()
        ts = int((now - dt.timedelta(seconds=40)).timestamp())
        out = [
            await phone.request("GET", f"/?id={ident}&lat=31.2&lon=121.5&timestamp={ts}"),  # Shanghai: outside
            await phone.request("GET", f"/?id={ident}&lat=39.01&lon=117.66&timestamp={ts + 1}"),  # the next one
            await phone.request("GET", f"/?id={ident}&lat=39.01&lon=117.66&timestamp={ts + 1}"),  # a lost answer: again
            await phone.request("GET", f"/lawgrid/osmand?id={ident}&location=39.02,117.67&timestamp={ts + 2}"),
            await phone.request("GET", f"/?id={ident}&cell=460,0,1234,5678"),  # no position at all
        ]
        for bad in ("1e308", "nan", "-1e20", "0", "-62135596800"):
            out.append(await phone.request("GET", f"/?id={ident}&lat=39.0&lon=117.6&timestamp={bad}"))
        quarantined = service.pipeline.quarantine.entries()
        counters = service.stats()
        await phone.close()
        await service.stop()
        return out, quarantined, counters

    out, quarantined, counters = run(scenario())
    assert [s for s, _ in out[:5]] == [200, 200, 200, 200, 200], out
    assert "far_from_district" in out[0][1] and "duplicate" in out[2][1] and "heartbeat" in out[4][1]
    assert [s for s, _ in out[5:]] == [400] * 5, out[5:]
    rows = positions(engine, dev_id)
    assert [round(r[1], 2) for r in rows] == [39.01, 39.02]  # both queued fixes behind the refused one
    assert {q["reason"] for q in quarantined} >= {"far_from_district"}
    assert counters.get("osmand:heartbeat") == 1
    cleanup(engine, dev_id)


def test_a_fix_from_years_ago_is_history_not_live(engine, tmp_path):
    """A terminal emptying its queue sends a 2013 fix with the SOS bit: it is stored in the
    track, but it neither moves the device on the map nor raises a live alarm."""
    dev_id, _ = registered(engine, "osmand")
    cleanup(engine, dev_id)
    old = dt.datetime(2013, 5, 1, 8, 0, tzinfo=dt.UTC)

    async def scenario():
        pipeline = Pipeline(db.raw_psycopg_url(engine), tmp_path / "spool.jsonl")
        await pipeline.start()
        refused = await pipeline.submit(
            [
                Fix(
                    device_id=dev_id,
                    fix_time=old,
                    received_at=dt.datetime.now(dt.UTC),
                    lat=TANGGU[0],
                    lon=TANGGU[1],
                    alarms=["sos"],
                )
            ]
        )
        await pipeline.stop()
        return refused

    assert run(scenario()) == []
    assert [r[0] for r in positions(engine, dev_id)] == [old]
    with engine.connect() as c:
        state = c.execute(text("SELECT count(*) FROM device_state WHERE device_id = :d"), {"d": dev_id}).scalar()
        alarms = c.execute(text("SELECT count(*) FROM alarm WHERE device_id = :d"), {"d": dev_id}).scalar()
    assert state == 0 and alarms == 0
    cleanup(engine, dev_id)


def test_a_terminal_that_only_beats_stays_online(engine, service_factory):
    """Heartbeats keep a device seen: a JT/T 808 terminal that sends no position for longer
    than the stale limit, but beats, is still online after the sweep."""
    dev_id, phone = registered(engine, "jt808")
    cleanup(engine, dev_id)

    async def scenario():
        service = await service_factory(stale_after_s=2, offline_after_s=600, sweep_every_s=0.2)
        term = terminal(phone, service.jt808.port)
        await term.connect()
        await term.login()
        assert await term.location(*TANGGU) == frames.RESULT_OK
        with engine.begin() as c:  # the last position was long ago
            c.execute(
                text("UPDATE device_state SET last_seen = now() - interval '1 minute' WHERE device_id = :d"),
                {"d": dev_id},
            )
        assert await term.send(frames.HEARTBEAT) == frames.RESULT_OK
        deadline = time.monotonic() + 5
        state = None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            with engine.connect() as c:
                state, seen = c.execute(
                    text(
                        "SELECT state, last_seen > now() - interval '10 seconds' FROM device_state WHERE device_id = :d"
                    ),
                    {"d": dev_id},
                ).one()
            if seen:
                break
        await term.close()
        await service.stop()
        return state, seen

    state, seen = run(scenario())
    assert seen and state == "online"
    cleanup(engine, dev_id)


def test_dropped_fixes_are_logged_once_per_reason_per_device(engine, service_factory, caplog):
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    now = int(dt.datetime.now(dt.UTC).timestamp())

    async def scenario():
        service = await service_factory()
        phone = phone_client(ident, service.osmand.port)
        await phone.connect()
        for i in range(3):  # three fixes from Shanghai
            assert (await phone.request("GET", f"/?id={ident}&lat=31.2&lon=121.5&timestamp={now - 30 + i}"))[0] == 200
        counted = service.stats()["rejected:far_from_district"]
        await phone.close()
        await service.stop()
        return counted

    with caplog.at_level("INFO", logger="lawgrid.ingest"):
        counted = run(scenario())
    lines = [r for r in caplog.records if "far_from_district" in r.getMessage() and str(dev_id) in r.getMessage()]
    assert counted == 3 and len(lines) == 1
    cleanup(engine, dev_id)


def test_a_position_that_is_not_a_fix_is_history_and_a_broken_trailing_item_spoils_nothing(engine, service_factory):
    """JT/T 808 status bit 1 clear (no satellite fix): the position is stored as such but not
    drawn live (the device keeps its last real position, and stays online). A malformed
    trailing additional item: the position before it is kept."""
    dev_id, phone = registered(engine, "jt808")
    cleanup(engine, dev_id)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async def scenario():
        service = await service_factory()
        term = terminal(phone, service.jt808.port)
        await term.connect()
        await term.login()
        assert await term.location(39.05, 117.70, now - dt.timedelta(seconds=20)) == frames.RESULT_OK
        broken = messages.location_body(39.06, 117.71, now - dt.timedelta(seconds=15)) + bytes([0x01, 4, 0x00])
        assert await term.send(frames.LOCATION, broken) == frames.RESULT_OK
        # The newest report has no satellite fix: it must not move the device on the map.
        assert await term.location(39.30, 117.90, now - dt.timedelta(seconds=5), status=0x00) == frames.RESULT_OK
        await term.close()
        await service.stop()

    run(scenario())
    rows = positions(engine, dev_id)
    assert [round(r[1], 2) for r in rows] == [39.05, 39.06, 39.30]
    assert rows[1][4]["malformed_item"] == 1 and rows[2][4]["valid"] is False
    with engine.connect() as c:
        lat, state = c.execute(
            text("SELECT ST_Y(geom), state FROM device_state WHERE device_id = :d"), {"d": dev_id}
        ).one()
    assert round(lat, 2) == 39.06 and state == "online"  # the not-a-fix position never became live
    cleanup(engine, dev_id)


def test_memory_stays_flat_over_a_million_submits(databases, tmp_path):
    """A million fixes through the listener's path (validation, pipeline, PostGIS): the
    process's memory after a million is what it was after 100,000 (a bounded latency window,
    state per device only)."""
    import gc
    import os

    from ingest.context import IngestContext
    from ingest.pipeline import Pipeline

    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    url = databases.fresh("lawgrid_memory")
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as c:
        device = c.execute(
            text("INSERT INTO device (kind, protocol, identifier) VALUES ('terminal', 'osmand', 'mem') RETURNING id")
        ).scalar_one()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1_100_000)

    async def submit_all():
        pipeline = Pipeline(db.raw_psycopg_url(engine), tmp_path / "spool.jsonl")
        await pipeline.start()
        ctx = IngestContext(db.make_sessionmaker(engine), pipeline)
        sizes = {}
        second = 0
        for group in range(100):  # ten listeners' submits of 1,000 at a time, batched together
            submits = []
            for _ in range(10):
                fixes = []
                for _ in range(1000):
                    second += 1
                    when = start + dt.timedelta(seconds=second)
                    fixes.append(Fix(device, when, 39.01 + second % 100 / 1e5, 117.66, when))
                submits.append(ctx.accept(fixes))
            await asyncio.gather(*submits)
            if group in (9, 99):  # after 100,000 and after 1,000,000
                gc.collect()
                sizes[group] = resident()
        await pipeline.stop()
        ctx.close()
        return sizes, ctx.counters["accepted"]

    sizes, accepted = run(submit_all())
    with engine.connect() as c:
        stored = c.execute(text("SELECT count(*) FROM position WHERE device_id = :d"), {"d": device}).scalar()
    engine.dispose()
    assert accepted == stored == 1_000_000
    assert sizes[99] - sizes[9] < 16 * 1024 * 1024, sizes  # ten times the fixes, not ten times the memory
