"""The JT/T 808 baseline of `bench ingest --protocol jt808`: the least a listener can do and
still be honest. It decodes the same frames with the same codec, answers every login, COPYs
positions in batches (by time and count) into the real partitioned `position` table and
acknowledges each only after its batch commits. No validation, no device state, no alarms,
no spool: what LawGrid adds on top of this is what the ratio measures.

    python -m lawgrid.bench.jt808_baseline --dsn postgresql://... --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from ingest.jt808 import codec
from ingest.listener import BACKLOG, raise_open_file_limit

BATCH_ROWS, BATCH_WAIT_S = 5000, 0.02


class Baseline:
    def __init__(self, dsn: str):
        self.conn = psycopg.connect(dsn)
        with self.conn.cursor() as cur:
            cur.execute("SELECT lawgrid_terminal_key(identifier), id FROM device WHERE protocol = 'jt808'")
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
        self.splitter = codec.FrameSplitter()
        self.device_id: int | None = None
        self.serial = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def reply(self, msg_id: int, phone: str, body: bytes) -> bytes:
        self.serial = (self.serial + 1) & 0xFFFF
        return codec.encode(msg_id, phone, self.serial, body)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        for content in self.splitter.feed(data):
            try:
                msg = codec.decode(content)
            except codec.FrameError:
                continue
            h = msg.header
            ok = codec.general_response(h.serial, h.msg_id, codec.RESULT_OK)
            if h.msg_id == codec.REGISTER:
                self.device_id = self.base.devices.get(h.phone)
                body = codec.register_response(h.serial, codec.REG_OK, "BASE")
                self.transport.write(self.reply(codec.REGISTER_RESPONSE, h.phone, body))
            elif h.msg_id == codec.LOCATION and self.device_id is not None:
                loc = codec.parse_location(msg.body)
                now = dt.datetime.now(dt.UTC).isoformat()
                self.base.rows.append(
                    f"{self.device_id}\t{loc.time.isoformat()}\t{now}\tSRID=4326;POINT({loc.lon} {loc.lat})\t"
                    f"{loc.speed_kmh}\t{loc.course}\t{loc.altitude_m}\n"
                )
                self.base.acks.append((self.transport, self.reply(codec.PLATFORM_RESPONSE, h.phone, ok)))
                if len(self.base.rows) >= BATCH_ROWS or not self.base.wake.is_set():
                    self.base.wake.set()
            else:
                self.transport.write(self.reply(codec.PLATFORM_RESPONSE, h.phone, ok))


async def serve(dsn: str, host: str, port: int) -> None:
    raise_open_file_limit()
    base = Baseline(dsn)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(base), host, port, backlog=BACKLOG)
    print(f"listening: JT/T 808 on {server.sockets[0].getsockname()[1]}", flush=True)
    flusher = asyncio.create_task(base.flusher())
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    flusher.cancel()
    print(f"stored {base.stored} at {time.time():.0f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dsn", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    asyncio.run(serve(args.dsn, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
