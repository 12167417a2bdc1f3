"""The simulator's devices behave as terminals do (issue 33, item 6): when the server goes away
and comes back (a restart), each JT/T 808 terminal notices its line is gone and logs in again,
with a backoff that doubles, and its fixes are stored by the new listener."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from geo.infra import db
from ingest.service import IngestConfig, IngestService
from ingest.simulator import Simulator, load_devices
from tests.webutil import PATIENCE_S, run_async


def test_terminals_log_in_again_after_the_server_restarts(engine, tmp_path):
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        fleet = load_devices(s, 4, "jt808", seed=7)
    ids = [d.device_id for d in fleet]

    def stored_since(moment) -> int:
        with engine.connect() as c:
            return c.execute(
                text("SELECT count(*) FROM position WHERE device_id = ANY(:d) AND received_at > :t"),
                {"d": ids, "t": moment},
            ).scalar()

    def config(port: int) -> IngestConfig:
        return IngestConfig(
            dsn=db.raw_psycopg_url(engine),
            spool_path=tmp_path / "spool.jsonl",
            host="127.0.0.1",
            jt808_port=port,
            osmand_port=0,
        )

    async def scenario():
        first = IngestService(config(0), db.make_sessionmaker(engine))
        await first.start()
        port = first.jt808.port
        sim = Simulator(fleet, "127.0.0.1", port, 0, rate_hz=2, duration_s=PATIENCE_S, progress=False)
        run = asyncio.create_task(sim.run())

        async def until(condition, what: str) -> None:
            deadline = time.monotonic() + PATIENCE_S
            while not await condition():
                assert time.monotonic() < deadline, f"timed out waiting for {what}: {sim.stats.summary()}"
                await asyncio.sleep(0.1)

        async def acked() -> bool:
            return sim.stats.acked >= 8

        await until(acked, "the first fixes")
        await first.stop()  # the server goes away...
        restart = await asyncio.to_thread(lambda: engine.connect().execute(text("SELECT now()")).scalar())
        second = IngestService(config(port), db.make_sessionmaker(engine))
        await second.start()  # ...and comes back on the same port

        async def back() -> bool:
            return sim.stats.reconnects >= len(fleet) and await asyncio.to_thread(stored_since, restart) >= len(fleet)

        await until(back, "every terminal logged in again and stored by the new listener")
        sim.stopped = True
        summary = await run
        await second.stop()
        return summary

    summary = run_async(scenario())
    assert summary["reconnects"] >= 4 and summary["acked"] > 8


def test_the_demo_sees_its_first_sos_when_asked(engine, tmp_path):
    """The demo's simulator presses SOS once on its first device after first_sos_after_s (the
    reviewer's 30 minutes without one), and the listener raises the alarm."""
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        fleet = load_devices(s, 3, "jt808", seed=11)
    first = fleet[0].device_id

    def alarms() -> int:
        with engine.connect() as c:
            return c.execute(
                text(
                    "SELECT count(*) FROM alarm WHERE device_id = :d AND kind = 'sos' "
                    "AND at > now() - interval '1 hour'"
                ),
                {"d": first},
            ).scalar()

    async def scenario():
        service = IngestService(
            IngestConfig(
                dsn=db.raw_psycopg_url(engine),
                spool_path=tmp_path / "spool.jsonl",
                host="127.0.0.1",
                jt808_port=0,
                osmand_port=0,
            ),
            db.make_sessionmaker(engine),
        )
        await service.start()
        before = await asyncio.to_thread(alarms)
        sim = Simulator(
            fleet,
            "127.0.0.1",
            service.jt808.port,
            0,
            rate_hz=2,
            duration_s=PATIENCE_S,
            progress=False,
            sos_per_hour=0.0,
            first_sos_after_s=0.5,
        )
        run = asyncio.create_task(sim.run())
        deadline = time.monotonic() + PATIENCE_S
        while await asyncio.to_thread(alarms) == before:
            assert time.monotonic() < deadline, f"no SOS alarm: {sim.stats.summary()}"
            await asyncio.sleep(0.1)
        sim.stopped = True
        await run
        await service.stop()
        return sim.stats.sos

    assert run_async(scenario()) == 1  # once, and only the first device
    with engine.begin() as c:
        c.execute(
            text("UPDATE alarm SET status = 'resolved' WHERE device_id = :d AND status <> 'resolved'"), {"d": first}
        )
