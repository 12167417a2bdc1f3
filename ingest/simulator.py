"""`lawgrid simulate`: registered devices driven over the real protocols and sockets.

Each device walks a plausible path inside its officer's assigned townships (a random walk
at walking-to-driving speeds that turns back at the area's edge), with an occasional SOS,
body cameras that stop and start recording, and dropouts that reconnect."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from ingest.devices import DeviceRefused, Jt808Terminal, OsmAndPhone
from ingest.jt808 import frames
from ingest.listener import raise_open_file_limit


@dataclass
class SimDevice:
    device_id: int
    protocol: str
    identifier: str
    kind: str
    area: BaseGeometry
    lon: float
    lat: float
    heading: float
    speed_kmh: float
    recording: bool = True
    terminal_id: str | None = None  # a JT/T 808 terminal's 终端ID, as the registry holds it
    device_key: str | None = None  # an OsmAnd phone's key (its server URL's /k/KEY)


@dataclass
class SimStats:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    sos: int = 0
    dropouts: int = 0
    reconnects: int = 0
    ack_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        ack = np.array(self.ack_ms) if self.ack_ms else np.array([0.0])
        return {
            "sent": self.sent,
            "acked": self.acked,
            "failed": self.failed,
            "sos": self.sos,
            "dropouts": self.dropouts,
            "reconnects": self.reconnects,
            "ack_p50_ms": round(float(np.percentile(ack, 50)), 1),
            "ack_p95_ms": round(float(np.percentile(ack, 95)), 1),
            "ack_p99_ms": round(float(np.percentile(ack, 99)), 1),
        }


def load_devices(session: Session, n: int, protocol: str, seed: int = 1) -> list[SimDevice]:
    protocols = {"jt808": ["jt808"], "osmand": ["osmand"], "mixed": ["jt808", "osmand"]}[protocol]
    rows = session.execute(
        text(
            """
        SELECT d.id, d.protocol, d.identifier, d.kind, d.terminal_id, d.device_key,
               ST_AsBinary(ST_Union(t.geom)) AS area
        FROM device d JOIN officer_area oa ON oa.officer_id = d.officer_id
        JOIN township t ON t.code = oa.township_code
        WHERE d.protocol = ANY(:p)
        GROUP BY d.id ORDER BY d.id LIMIT :n
        """
        ),
        {"p": protocols, "n": n},
    ).all()
    rng = random.Random(seed)
    out = []
    for r in rows:
        area = shapely.from_wkb(bytes(r.area))
        minx, miny, maxx, maxy = area.bounds
        shapely.prepare(area)
        for _ in range(1000):
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(area, lon, lat):
                break
        out.append(
            SimDevice(
                r.id,
                r.protocol,
                r.identifier,
                r.kind,
                area,
                lon,
                lat,
                rng.uniform(0, 360),
                rng.uniform(4, 40),
                terminal_id=r.terminal_id,
                device_key=r.device_key,
            )
        )
    return out


def step(dev: SimDevice, seconds: float, rng: random.Random) -> None:
    """Move along the heading; turn gently, and turn back at the edge of the area."""
    dev.heading = (dev.heading + rng.gauss(0, 20)) % 360
    metres = dev.speed_kmh / 3.6 * seconds
    dlat = metres * math.cos(math.radians(dev.heading)) / 111_320
    dlon = metres * math.sin(math.radians(dev.heading)) / (111_320 * math.cos(math.radians(dev.lat)))
    if shapely.contains_xy(dev.area, dev.lon + dlon, dev.lat + dlat):
        dev.lon += dlon
        dev.lat += dlat
    else:
        dev.heading = (dev.heading + 180) % 360


BACKOFF_FIRST_S = 0.5  # a device that cannot connect or log in tries again after this...
BACKOFF_MAX_S = 30.0  # ...doubling each time up to this (jittered, so a restart is not stormed)


class Simulator:
    def __init__(
        self,
        devices: list[SimDevice],
        host: str,
        jt808_port: int,
        osmand_port: int,
        *,
        rate_hz: float,
        duration_s: float,
        seed: int = 1,
        sos_per_hour: float = 2.0,
        camera_toggle_per_hour: float = 0.5,
        dropout_every: int = 30_000,
        progress: bool = True,
        first_sos_after_s: float | None = None,
    ):
        self.devices = devices
        self.host, self.jt808_port, self.osmand_port = host, jt808_port, osmand_port
        self.rate_hz, self.duration_s = rate_hz, duration_s
        self.rng = random.Random(seed)
        # Alarms at a rate a command centre sees: a couple of SOS an hour across the fleet
        # (most of them pressed by mistake), and a body camera stopped or started about once
        # in two hours each (a break, an interview ended), not every ten minutes.
        fixes_per_hour = max(1e-9, rate_hz * 3600)
        self.p_sos = sos_per_hour / fixes_per_hour / max(1, len(devices))
        self.p_toggle = camera_toggle_per_hour / fixes_per_hour
        # A demo shows its command centre an SOS early (the first device presses it once after
        # this many seconds); at two an hour, half an hour can pass without one.
        self.first_sos_at = None if first_sos_after_s is None else time.monotonic() + first_sos_after_s
        self.dropout_every = dropout_every
        self.stats = SimStats()
        self.progress = progress
        self.stopped = False  # set to end the run early (the devices close their lines)

    async def run(self) -> dict:
        raise_open_file_limit()
        t_end = time.monotonic() + self.duration_s
        reporter = asyncio.create_task(self._report()) if self.progress else None
        await asyncio.gather(*(self._drive(d, t_end, i) for i, d in enumerate(self.devices)))
        if reporter:
            reporter.cancel()
        return self.stats.summary()

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(5)
            s = self.stats
            print(
                f"simulate: sent {s.sent:,} acked {s.acked:,} failed {s.failed:,} sos {s.sos}",
                file=sys.stderr,
                flush=True,
            )

    async def _drive(self, dev: SimDevice, t_end: float, index: int) -> None:
        period = 1.0 / self.rate_hz
        # Spread devices over the first period so they do not all speak at once.
        await asyncio.sleep(period * index / max(1, len(self.devices)))
        client = None
        pending: set[asyncio.Future] = set()
        last_time = None
        backoff = BACKOFF_FIRST_S
        while time.monotonic() < t_end and not self.stopped:
            tick = time.monotonic()
            try:
                if client is not None and getattr(client, "closed", False):
                    # the server went away (a restart, a new connection of this terminal): log in again
                    self.stats.reconnects += 1
                    await self._close(client, pending)
                    client = None
                if client is None:
                    client = await self._connect(dev)
                    backoff = BACKOFF_FIRST_S
                step(dev, period, self.rng)
                now = dt.datetime.now(dt.UTC)
                if dev.protocol == "jt808" and last_time and int(now.timestamp()) == last_time:
                    # BCD time has one-second resolution: one fix per second per terminal.
                    await asyncio.sleep(max(0.0, period - (time.monotonic() - tick)))
                    continue
                last_time = int(now.timestamp())
                sos = self.rng.random() < self.p_sos
                if index == 0 and self.first_sos_at is not None and tick >= self.first_sos_at:
                    sos, self.first_sos_at = True, None
                self.stats.sos += sos
                if dev.kind == "body_camera" and self.rng.random() < self.p_toggle:
                    dev.recording = not dev.recording
                self.stats.sent += 1
                if dev.protocol == "jt808":
                    fut = client.location(
                        dev.lat,
                        dev.lon,
                        now,
                        alarm=1 if sos else 0,
                        speed_kmh=dev.speed_kmh,
                        course=int(dev.heading),
                        camera=int(dev.recording) if dev.kind == "body_camera" else None,
                    )
                    pending.add(fut)
                    fut.add_done_callback(self._settled(pending))
                else:
                    status, _ = await client.position(
                        dev.lat,
                        dev.lon,
                        now,
                        speed=f"{dev.speed_kmh / 1.852:.1f}",
                        bearing=f"{dev.heading:.0f}",
                        **({"alarm": "sos"} if sos else {}),
                    )
                    if status == 200:
                        self.stats.acked += 1
                    else:
                        self.stats.failed += 1
                if self.rng.randrange(self.dropout_every) == 0:
                    self.stats.dropouts += 1
                    await self._close(client, pending)
                    client = None
                    await asyncio.sleep(self.rng.uniform(2, 10))
                    continue
            except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, DeviceRefused):
                # as a terminal does: try again after a pause that doubles, with jitter, up to a cap
                self.stats.failed += 1
                await self._close(client, pending)
                client = None
                await asyncio.sleep(min(t_end - time.monotonic(), backoff * self.rng.uniform(0.5, 1.5)))
                backoff = min(BACKOFF_MAX_S, backoff * 2)
                continue
            await asyncio.sleep(max(0.0, period - (time.monotonic() - tick)))
        await self._close(client, pending)

    def _settled(self, pending: set) -> Any:
        """A done-callback: forget the send and count how it ended."""

        def settled(fut: asyncio.Future) -> None:
            pending.discard(fut)
            self._count(fut)

        return settled

    def _count(self, fut: asyncio.Future) -> None:
        if fut.cancelled() or fut.exception() is not None or fut.result() != frames.RESULT_OK:
            self.stats.failed += 1
        else:
            self.stats.acked += 1

    async def _connect(self, dev: SimDevice):
        if dev.protocol == "jt808":
            terminal = Jt808Terminal(dev.identifier, self.host, self.jt808_port, terminal_id=dev.terminal_id or "")
            await terminal.connect()
            await terminal.login()
            client: Jt808Terminal | OsmAndPhone = terminal
        else:
            client = OsmAndPhone(dev.identifier, self.host, self.osmand_port, key=dev.device_key)
            await client.connect()
        return client

    async def _close(self, client, pending) -> None:
        if client is None:
            return
        if pending:
            await asyncio.wait(list(pending), timeout=10)
        if isinstance(client, Jt808Terminal):
            self.stats.ack_ms.extend(client.ack_ms)
        else:
            self.stats.ack_ms.extend(client.ack_ms)
        await client.close()


def run_simulation(
    session_factory,
    *,
    devices: int,
    rate: float,
    duration: float,
    protocol: str,
    host: str,
    jt808_port: int,
    osmand_port: int,
    seed: int = 1,
    progress: bool = True,
    sos_per_hour: float = 2.0,
    first_sos_after_s: float | None = None,
) -> dict:
    from geo.infra import db

    with db.session_scope(session_factory) as s:
        fleet = load_devices(s, devices, protocol, seed)
    if not fleet:
        raise SystemExit("no registered devices to simulate: run `lawgrid seed` first")
    sim = Simulator(
        fleet,
        host,
        jt808_port,
        osmand_port,
        rate_hz=rate,
        duration_s=duration,
        seed=seed,
        progress=progress,
        sos_per_hour=sos_per_hour,
        first_sos_after_s=first_sos_after_s,
    )
    summary = asyncio.run(sim.run())
    summary["devices"] = len(fleet)
    return summary
