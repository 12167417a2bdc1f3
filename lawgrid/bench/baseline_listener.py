"""The baseline listener of `bench ingest`: the least a listener can do and still be honest.
For JT/T 808 it decodes the same frames with the same codec and answers every login; for
OsmAnd it reads each HTTP request's query string. Either way it COPYs positions in batches
(by time and count) into the real partitioned `position` table and acknowledges each only
after its batch commits. No validation, no device state, no alarms, no spool: what LawGrid
adds on top of this is what the ratio measures.

    python -m lawgrid.bench.baseline_listener --protocol osmand --dsn postgresql://... --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import psycopg

from ingest.jt808 import frames, messages
from ingest.listener import BACKLOG, raise_open_file_limit

BATCH_ROWS, BATCH_WAIT_S = 5000, 0.02


class Baseline:
    def __init__(self, dsn: str, protocol: str):
        self.conn = psycopg.connect(dsn)
        key = "lawgrid_terminal_key(identifier)" if protocol == "jt808" else "identifier"
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {key}, id FROM device WHERE protocol = %s", (protocol,))
            self.devices: dict[str, int] = dict(cur.fetchall())
        self.conn.commit()
        self.rows: list[str] = []
        self.acks: list[tuple[asyncio.Transport, bytes]] = []
        self.executor = ThreadPoolExecutor(1)
        self.wake = asyncio.Event()
        self.stored = 0

    def copy(self, rows: list[str]) -> None:
        with self.conn.cursor() as cur:
            with cur.copy(
                "COPY position (device_id, fix_time, received_at, geom, speed_kmh, course, altitude_m) FROM STDIN"
            ) as cp:
                cp.write("".join(rows))
        self.conn.commit()

    async def flusher(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake.wait()
            await asyncio.sleep(BATCH_WAIT_S)
            self.wake.clear()
            rows, acks = self.rows, self.acks
            self.rows, self.acks = [], []
            if not rows:
                continue
            await loop.run_in_executor(self.executor, self.copy, rows)
            self.stored += len(rows)
            for transport, frame in acks:
                if not transport.is_closing():
                    transport.write(frame)
            if self.rows:
                self.wake.set()


class Session(asyncio.Protocol):
    def __init__(self, base: Baseline):
        self.base = base
        self.splitter = frames.FrameSplitter()
        self.device_id: int | None = None
        self.serial = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def reply(self, msg_id: int, phone: str, body: bytes) -> bytes:
        self.serial = (self.serial + 1) & 0xFFFF
        return frames.encode(msg_id, phone, self.serial, body)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        for content in self.splitter.feed(data):
            try:
                msg = frames.decode(content)
            except frames.FrameError:
                continue
            h = msg.header
            ok = messages.general_response(h.serial, h.msg_id, frames.RESULT_OK)
            if h.msg_id == frames.REGISTER:
                self.device_id = self.base.devices.get(h.phone)
                body = messages.register_response(h.serial, frames.REG_OK, "BASE")
                self.transport.write(self.reply(frames.REGISTER_RESPONSE, h.phone, body))
            elif h.msg_id == frames.LOCATION and self.device_id is not None:
                loc = messages.parse_location(msg.body)
                now = dt.datetime.now(dt.UTC).isoformat()
                self.base.rows.append(
                    f"{self.device_id}\t{loc.time.isoformat()}\t{now}\tSRID=4326;POINT({loc.lon} {loc.lat})\t"
                    f"{loc.speed_kmh}\t{loc.course}\t{loc.altitude_m}\n"
                )
                self.base.acks.append((self.transport, self.reply(frames.PLATFORM_RESPONSE, h.phone, ok)))
                if len(self.base.rows) >= BATCH_ROWS or not self.base.wake.is_set():
                    self.base.wake.set()
            else:
                self.transport.write(self.reply(frames.PLATFORM_RESPONSE, h.phone, ok))


OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"


class HttpSession(asyncio.Protocol):
    """OsmAnd: GET /?id=..&timestamp=..&lat=..&lon=.. on keep-alive connections."""

    def __init__(self, base: Baseline):
        self.base = base
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            line = self.buffer[: self.buffer.find(b"\r\n")].decode("latin-1")
            self.buffer = self.buffer[end + 4 :]
            q = dict(parse_qsl(urlsplit(line.split(" ")[1]).query))
            device_id = self.base.devices.get(q.get("id", ""))
            if device_id is None:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            when = dt.datetime.fromtimestamp(int(q["timestamp"]) / 1000, dt.UTC).isoformat()
            now = dt.datetime.now(dt.UTC).isoformat()
            self.base.rows.append(
                f"{device_id}\t{when}\t{now}\tSRID=4326;POINT({q['lon']} {q['lat']})\t"
                f"{float(q['speed']) * 1.852}\t{q['bearing']}\t{q['altitude']}\n"
            )
            self.base.acks.append((self.transport, OK_RESPONSE))
            if len(self.base.rows) >= BATCH_ROWS or not self.base.wake.is_set():
                self.base.wake.set()


async def serve(dsn: str, host: str, port: int, protocol: str) -> None:
    raise_open_file_limit()
    base = Baseline(dsn, protocol)
    loop = asyncio.get_running_loop()
    kind = Session if protocol == "jt808" else HttpSession
    server = await loop.create_server(lambda: kind(base), host, port, backlog=BACKLOG)
    print(f"listening: {protocol} on {server.sockets[0].getsockname()[1]}", flush=True)
    flusher = asyncio.create_task(base.flusher())
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    flusher.cancel()
    print(f"stored {base.stored} at {time.time():.0f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--protocol", choices=["jt808", "osmand"], default="jt808")
    p.add_argument("--dsn", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    asyncio.run(serve(args.dsn, args.host, args.port, args.protocol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
