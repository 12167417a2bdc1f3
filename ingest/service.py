"""Running the device listeners: in their own process (`lawgrid ingest`) or in a background
thread of the web process (`lawgrid serve`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from geo.dispatch import arrivals
from geo.infra import db
from geo.telemetry import downlink, partitions, positions
from ingest.context import IngestContext
from ingest.jt808.server import Jt808Server
from ingest.listener import AcceptGuard, raise_open_file_limit
from ingest.osmand.server import OsmAndServer
from ingest.pipeline import OnCommit, Pipeline
from ingest.wake import RedisWake, StatsReporter

log = logging.getLogger("lawgrid.ingest")

LOGIN_BATCH_S = 0.2  # terminals that log in within this long have their queued texts looked up together


@dataclass
class IngestConfig:
    dsn: str
    spool_path: Path
    host: str = "0.0.0.0"
    jt808_port: int = 5015
    osmand_port: int = 5055
    stale_after_s: int = 60
    offline_after_s: int = 300
    sweep_every_s: float = 5.0
    mqtt_url: str | None = None
    mqtt_client_id: str = "lawgrid-ingest"  # the broker keeps this subscription's queue
    mqtt_topic_prefix: str = "lawgrid"
    live_max_age_s: int = 24 * 3600
    retention_months: int = 13  # position history kept; older monthly partitions are dropped
    reuse_port: bool = False  # SO_REUSEPORT: several `lawgrid ingest` processes share the ports
    redis_url: str | None = None  # where web processes wake ingest to send queued texts
    login_timeout_s: float = 60.0  # a JT/T 808 connection not authenticated by then is closed
    idle_timeout_s: float = 600.0  # ... and one silent this long (terminals beat every minute or so)
    max_per_address: int = 2000  # JT/T 808 connections per source address; 0 = no limit
    osmand_keyless: bool = False  # accept OsmAnd devices with no key: only on a closed network
    osmand_header_timeout_s: float = 10.0  # a request's head must arrive whole within this

    @classmethod
    def from_runtime(cls, runtime) -> IngestConfig:
        """The listeners as the settings (LAWGRID_*) describe them."""
        s = runtime.settings
        # One spool per listener process; MQTT in the first only (one session per client id).
        spool = f"telemetry-{s.ingest_worker}.jsonl" if s.ingest_worker else "telemetry.jsonl"
        return cls(
            dsn=db.raw_psycopg_url(runtime.engine),
            spool_path=s.resolved_data_dir / "spool" / spool,
            host=s.ingest_host,
            jt808_port=s.jt808_port,
            osmand_port=s.osmand_port,
            stale_after_s=s.stale_after_s,
            offline_after_s=s.offline_after_s,
            mqtt_url=s.mqtt_url if not s.ingest_worker else None,
            mqtt_client_id=s.mqtt_client_id,
            mqtt_topic_prefix=s.mqtt_topic_prefix,
            live_max_age_s=s.live_fix_max_age_s,
            retention_months=s.position_retention_months,
            reuse_port=s.ingest_reuse_port,
            redis_url=s.redis_url,
            login_timeout_s=s.jt808_login_timeout_s,
            idle_timeout_s=s.jt808_idle_timeout_s,
            max_per_address=s.ingest_max_connections_per_address,
            osmand_keyless=s.osmand_keyless,
        )


class IngestService:
    def __init__(
        self,
        config: IngestConfig,
        sessions: sessionmaker[Session],
        on_commit: OnCommit | None = None,
        on_states=None,
        on_arrivals=None,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.config = config
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.maintained_on: dt.date | None = None  # the day the partitions were last looked after
        self.sessions = sessions
        self.pipeline = Pipeline(
            config.dsn, config.spool_path, on_commit=on_commit, live_max_age_s=config.live_max_age_s
        )
        self.ctx = IngestContext(
            sessions,
            self.pipeline,
            snapshot_path=config.spool_path.with_name(config.spool_path.stem + ".registry.json"),
        )
        self.jt808 = Jt808Server(
            self.ctx,
            config.host,
            config.jt808_port,
            reuse_port=config.reuse_port,
            login_timeout_s=config.login_timeout_s,
            idle_timeout_s=config.idle_timeout_s,
            max_per_address=config.max_per_address,
        )
        self.jt808.on_login = self._logged_in
        self.osmand = OsmAndServer(
            self.ctx,
            config.host,
            config.osmand_port,
            reuse_port=config.reuse_port,
            read_timeout_s=config.idle_timeout_s / 5,
            max_per_address=config.max_per_address,
            keyless=config.osmand_keyless,
            header_timeout_s=config.osmand_header_timeout_s,
        )
        self.mqtt = None
        if config.mqtt_url:
            from ingest.mqtt import MqttListener  # paho only matters when MQTT is configured

            self.mqtt = MqttListener(self.ctx, config.mqtt_url, config.mqtt_client_id, config.mqtt_topic_prefix)
        self.on_states = on_states
        self.on_arrivals = on_arrivals  # inspection ids whose crew reached the target
        self._sweeper: asyncio.Task | None = None
        self._waker: RedisWake | None = None
        self._reporter: StatsReporter | None = None
        self._background: set[asyncio.Future] = set()
        self._just_logged_in: set[int] = set()
        self._login_timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        before, after = raise_open_file_limit()
        if after != before:
            log.info("open-file limit raised from %d to %d (one per connected device)", before, after)
        elif after < 8192:
            log.warning("open-file limit is %d: at most about that many devices can connect at once", after)
        AcceptGuard(self.ctx, self.loop).install()
        await asyncio.to_thread(self.maintain)
        try:
            known = await asyncio.to_thread(self.ctx.preload)
            log.info("%d registered devices cached for login", known)
        except Exception as exc:  # the database is down at start: the last registry read serves
            known = await asyncio.to_thread(self.ctx.preload_snapshot)
            log.warning(
                "could not read the device registry (%s); %d devices from its last snapshot, fixes spooled", exc, known
            )
        await self.pipeline.start()
        await self.jt808.start()
        await self.osmand.start()
        if self.mqtt:
            await self.mqtt.start()
        if self.config.redis_url:  # web processes wake this one when they queue a text, and read its counters
            self._waker = RedisWake(self.config.redis_url, self.wake)
            self._waker.start()
            self._reporter = StatsReporter(self.config.redis_url)
        self._sweeper = asyncio.create_task(self._sweep_forever())
        await self.report_stats()
        log.info("listening: JT/T 808 on %s, OsmAnd on %s", self.jt808.port, self.osmand.port)

    async def deliver_pending(self, device_ids: list[int] | None = None) -> set[int]:
        """Send the outbox's unsent texts to the connected terminals (those of device_ids, or
        all); returns the ids of the messages sent. Database work off the loop."""
        connected = self.jt808.authenticated()
        wanted = [d for d in (device_ids if device_ids is not None else connected) if d in connected]
        if not wanted:
            return set()
        loop = asyncio.get_running_loop()
        messages = await loop.run_in_executor(None, self._claim, wanted)
        sent, back = [], []
        connected = self.jt808.authenticated()  # again: terminals may have come and gone meanwhile
        for m in messages:
            conn = connected.get(m["device_id"])
            if conn is not None:
                conn.send_text(m["body"])
                sent.append(m["id"])
            else:
                back.append(m["id"])
        if back:
            await loop.run_in_executor(None, self._release, back)
        self.ctx.counters["jt808:texts_sent"] += len(sent)
        return set(sent)

    def _claim(self, device_ids: list[int]) -> list[dict]:
        with db.session_scope(self.sessions) as s:
            return downlink.claim(s, device_ids)

    def _release(self, ids: list[int]) -> None:
        with db.session_scope(self.sessions) as s:
            downlink.release(s, ids)

    def _logged_in(self, conn) -> None:
        """A terminal authenticated: what was queued for it while it was away goes now. The
        terminals logging in within LOGIN_BATCH_S are looked up in one query (a reconnect
        storm of thousands costs a handful, not one each)."""
        self._just_logged_in.add(conn.device["id"])
        if self._login_timer is None and self.loop is not None:
            self._login_timer = self.loop.call_later(LOGIN_BATCH_S, self._deliver_to_logged_in)

    def _deliver_to_logged_in(self) -> None:
        ids, self._just_logged_in, self._login_timer = list(self._just_logged_in), set(), None
        self._spawn(self.deliver_pending(ids))

    def _spawn(self, coroutine) -> None:
        """Run in the background; a failure is logged (the sweep sends from the outbox later)."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)

        def done(t: asyncio.Future) -> None:
            self._background.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.warning("sending queued texts failed: %s", t.exception())

        task.add_done_callback(done)

    def wake(self) -> None:
        """Thread-safe: look in the outbox now (a web process queued something)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._deliver_all)

    def _deliver_all(self) -> None:
        self._spawn(self.deliver_pending())

    async def stop(self) -> None:
        if self._waker is not None:
            self._waker.stop()
        if self._reporter is not None:
            try:
                await asyncio.to_thread(self._reporter.close)
            except Exception as exc:  # the key expires by itself
                log.debug("could not remove the ingest counters from Redis: %s", exc)
        if self._sweeper:
            self._sweeper.cancel()
        if self.mqtt:
            await self.mqtt.stop()
        await self.jt808.stop()
        await self.osmand.stop()
        await self.pipeline.stop()
        self.ctx.close()

    def maintain(self) -> dict | None:
        """Once a day (at start, then at the first sweep of each new day): next month's
        partition before it is needed, months past the retention dropped, and a warning if
        anything fell into the default partition."""
        now = self.clock()
        if self.maintained_on == now.date():
            return None
        try:
            with db.session_scope(self.sessions) as s:
                done = partitions.maintain_partitions(s, now, self.config.retention_months)
        except Exception as exc:  # the database may be down: the spool covers us; try again next sweep
            log.warning("could not maintain position partitions: %s", exc)
            return None
        self.maintained_on = now.date()
        self.ctx.counters["partitions:created"] += done["created"]
        self.ctx.counters["partitions:dropped"] += len(done["dropped"])
        if done["dropped"]:
            log.info("position history before %s dropped: %s", done["kept_from"].date(), ", ".join(done["dropped"]))
        if done["default_rows"]:
            self.ctx.counters["partitions:default_not_empty"] = done["default_rows"]
            log.error(
                "%s fixes are in the default position partition: their month had no partition; move them "
                "to one (they block creating it)",
                done["default_rows"],
            )
        return done

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_every_s)
            if self.ctx.from_snapshot:  # started during an outage: read the registry once it answers
                try:
                    await asyncio.to_thread(self.ctx.preload)
                    log.info("device registry read again: the snapshot is no longer used")
                except Exception as exc:
                    log.debug("registry still unreachable: %s", exc)
            try:
                # Taken on the loop, where they are filled; the database work runs off it.
                heard, moved = self.ctx.take_heartbeats(), self.ctx.take_moved()
                changed, arrived = await asyncio.to_thread(self._sweep, heard, moved)
            except Exception as exc:  # kept for the next sweep (the newer heartbeat wins)
                self.ctx.heartbeats = {**heard, **self.ctx.heartbeats}
                self.ctx.moved.update(moved)
                log.warning("state sweep failed: %s", exc)
                continue
            if changed and self.on_states:
                self.on_states(changed)
            if arrived and self.on_arrivals:
                self.on_arrivals(arrived)
            try:  # the outbox, in case a wake-up was missed (Redis down, a message lost)
                await self.deliver_pending()
            except Exception as exc:
                log.warning("sending queued texts failed: %s", exc)
            await self.report_stats()

    async def report_stats(self) -> None:
        """The counters, read on the loop where they are kept, written to Redis off it."""
        if self._reporter is None:
            return
        try:
            await asyncio.to_thread(self._reporter.report, self.stats())
        except Exception as exc:  # Redis away: the next sweep writes them again
            log.debug("could not write the ingest counters to Redis: %s", exc)

    def _sweep(self, heard: dict, moved: list[int]) -> tuple[list[dict], list[int]]:
        """Devices gone stale or offline, and crews that reached their target (on site)."""
        self.maintain()
        with db.session_scope(self.sessions) as s:
            positions.touch(s, heard)
            changed = positions.sweep_states(s, self.config.stale_after_s, self.config.offline_after_s)
            # Only the devices that reported to this process: each fix is judged once.
            arrived = arrivals.detect_arrivals(s, device_ids=moved) if moved else []
        return changed, arrived

    def stats(self) -> dict:
        return {
            **dict(self.ctx.counters),
            **{f"pipeline:{k}": v for k, v in self.pipeline.stats.items()},
            "spool_batches": len(self.pipeline.spool),
        }


class BackgroundIngest:
    """The service on its own event loop in a daemon thread (for the web process)."""

    def __init__(self, service: IngestService):
        self.service = service
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self.error: BaseException | None = None

    def start(self, timeout: float = 30) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("ingest listeners did not start")
        if self.error:
            raise self.error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.service.start())
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def call(self, fn, *args):
        """Run fn(*args) on the ingest loop (thread-safe) and return its result."""
        return asyncio.run_coroutine_threadsafe(_call(fn, *args), self._loop).result(10)

    def await_(self, coroutine_fn, *args):
        """Run coroutine_fn(*args) on the ingest loop (thread-safe) and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine_fn(*args), self._loop).result(10)

    def stop(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.service.stop(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


async def _call(fn, *args):
    return fn(*args)
