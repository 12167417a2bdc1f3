"""An open-loop device load: one process's share of the devices (`bench ingest` starts
several), each reporting a position on its own schedule whether or not the earlier ones were
answered. JT/T 808 terminals log in first (register, authenticate); OsmAnd phones send HTTP
GETs on one keep-alive connection each, pipelined when an answer is late, as a phone with a
queue would.

Latency is measured from the time a position was due to be sent, not from when the process
got round to sending it, so a generator or server that falls behind shows in the figures
(no coordinated omission). Writes to --out: `latency-{shard}.f64` (ms), `acked-{shard}.i64`
(device id, fix time in ms pairs: checked fix by fix against the table) and prints one JSON
line.

    python -m lawgrid.bench.device_load --protocol osmand --devices FILE --shard 0 --shards 2 --port 5055 ...
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import struct
import sys
import time
from array import array
from collections import deque
from pathlib import Path

from ingest.jt808 import frames, messages
from ingest.listener import raise_open_file_limit

LOGIN_TIMEOUT_S = 10.0  # what terminals wait for an answer before they try again


class Terminal(asyncio.Protocol):
    def __init__(self, load: Load, device_id: int, phone: str, terminal_id: str):
        self.load, self.device_id, self.phone, self.terminal_id = load, device_id, phone, terminal_id
        self.transport: asyncio.Transport | None = None
        self.splitter = frames.FrameSplitter()
        self.serial = 0
        self.waiting: dict[int, tuple[float, int]] = {}  # serial -> (due time, fix second)
        self.replies: dict[int, asyncio.Future] = {}
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.load.failed += len(self.waiting)
        self.waiting.clear()
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        for content in self.splitter.feed(data):
            try:
                msg = frames.decode(content)
            except frames.FrameError:
                self.load.bad_replies += 1
                continue
            mid = msg.header.msg_id
            if mid == frames.PLATFORM_RESPONSE:
                serial, _, result = struct.unpack_from(">HHB", msg.body, 0)
            elif mid == frames.REGISTER_RESPONSE:
                serial, result = struct.unpack_from(">HB", msg.body, 0)
            else:
                continue
            reply = self.replies.pop(serial, None)
            if reply is not None:
                if not reply.done():
                    reply.set_result((result, msg.body))
                continue
            sent = self.waiting.pop(serial, None)
            if sent is None:
                continue
            due, second = sent
            self.load.last_ack = now
            self.load.latency.append((now - due) * 1000)
            if result == frames.RESULT_OK:
                self.load.acked.extend((self.device_id, second * 1000))
            else:
                self.load.failed += 1

    def _send(self, msg_id: int, body: bytes) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        assert self.transport is not None
        self.transport.write(frames.encode(msg_id, self.phone, self.serial, body))
        return self.serial

    async def request(self, msg_id: int, body: bytes) -> tuple[int, bytes]:
        fut = asyncio.get_running_loop().create_future()
        self.replies[self._send(msg_id, body)] = fut
        return await asyncio.wait_for(fut, LOGIN_TIMEOUT_S)

    async def login(self) -> None:
        result, body = await self.request(frames.REGISTER, messages.registration_body(self.terminal_id))
        if result != frames.REG_OK:
            raise ConnectionError(f"registration refused ({result})")
        result, _ = await self.request(frames.AUTHENTICATE, messages.authentication_body(body[3:].decode("ascii")))
        if result != frames.RESULT_OK:
            raise ConnectionError(f"authentication refused ({result})")

    def position(self, due: float, when: float, lat: float, lon: float) -> None:
        second = int(when)
        body = messages.location_body(lat, lon, dt.datetime.fromtimestamp(second, dt.UTC), speed_kmh=5.0)
        self.waiting[self._send(frames.LOCATION, body)] = (due, second)


class Phone(asyncio.Protocol):
    """A Traccar Client (OsmAnd protocol) on one keep-alive connection: answers come back in
    the order the requests went, so each one settles the oldest request waiting."""

    def __init__(self, load: Load, device_id: int, ident: str, key: str):
        self.load, self.device_id, self.ident = load, device_id, ident
        self.path = f"/k/{key}" if key else "/"  # the phone's server URL
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiting: deque[tuple[float, int]] = deque()  # (due time, fix time in ms)
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.load.failed += len(self.waiting)
        self.waiting.clear()
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length_at = head.lower().find(b"content-length:")
            length = int(head[length_at + 15 :].split(b"\r\n", 1)[0]) if length_at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if not self.waiting:
                self.load.bad_replies += 1
                continue
            due, ms = self.waiting.popleft()
            self.load.last_ack = now
            self.load.latency.append((now - due) * 1000)
            if head.startswith(b"HTTP/1.1 200") and body == b"OK":
                self.load.acked.extend((self.device_id, ms))
            else:  # refused, or answered 2xx but not stored (a duplicate, say)
                self.load.failed += 1

    async def login(self) -> None:
        return None  # a phone names itself in every request

    def position(self, due: float, when: float, lat: float, lon: float) -> None:
        ms = int(when * 1000)
        assert self.transport is not None
        self.transport.write(
            f"GET {self.path}?id={self.ident}&timestamp={ms}&lat={lat:.6f}&lon={lon:.6f}&speed=2.7&bearing=90"
            f"&altitude=3&accuracy=5&batt=80 HTTP/1.1\r\nHost: lawgrid\r\n\r\n".encode()
        )
        self.waiting.append((due, ms))


class Load:
    def __init__(self, args):
        self.args = args
        self.latency = array("d")
        self.acked = array("q")
        self.failed = self.sent = self.bad_replies = self.login_failures = self.behind = 0
        self.last_ack = 0.0

    def device(self, device_id: int, identifier: str, secret: str) -> Terminal | Phone:
        kind = Terminal if self.args.protocol == "jt808" else Phone
        return kind(self, device_id, identifier, secret)

    async def connect(
        self, device_id: int, phone: str, secret: str, gate: asyncio.Semaphore
    ) -> Terminal | Phone | None:
        loop = asyncio.get_running_loop()
        for _attempt in range(3):  # as a terminal does: try again after a timeout
            async with gate:
                try:
                    _, terminal = await loop.create_connection(
                        lambda: self.device(device_id, phone, secret), self.args.host, self.args.port
                    )
                    await terminal.login()
                    return terminal
                except (OSError, TimeoutError, ConnectionError):
                    self.login_failures += 1
        return None

    async def run(self) -> dict:
        raise_open_file_limit()
        rows = json.loads(Path(self.args.devices).read_text())
        mine = rows[self.args.shard :: self.args.shards]
        total = len(rows)
        gate = asyncio.Semaphore(2000)
        t_login = time.monotonic()
        terminals = await asyncio.gather(*(self.connect(r[0], r[1], r[4] or "", gate) for r in mine))
        login_s = time.monotonic() - t_login
        # Every shard starts its schedule at the same wall-clock second; a terminal's phase in
        # the second is its place in the whole fleet, so the load is even across the second.
        start_wall = self.args.start_at if self.args.start_at else time.time() + 1
        start = time.monotonic() + (start_wall - time.time())
        period = 1.0 / self.args.rate
        schedule = sorted(
            ((i * self.args.shards + self.args.shard) / total, t, r[2], r[3])
            for i, (t, r) in enumerate(zip(terminals, mine, strict=True))
            if t is not None
        )
        rounds = int(self.args.duration * self.args.rate)
        for k in range(rounds):
            for phase, terminal, lat, lon in schedule:
                due = start + (k + phase) * period
                ahead = due - time.monotonic()
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
                elif ahead < -0.1:
                    self.behind += 1  # the generator itself is late: still measured from `due`
                if terminal.transport is None or terminal.transport.is_closing():
                    self.failed += 1
                    continue
                terminal.position(due, start_wall + (k + phase) * period, lat, lon)
                self.sent += 1
                if self.sent % 256 == 0:
                    await asyncio.sleep(0)  # read the answers even when running behind
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(t.waiting for _, t, _, _ in schedule):
            await asyncio.sleep(0.05)
        unanswered = sum(len(t.waiting) for _, t, _, _ in schedule)
        for _, t, _, _ in schedule:
            t.waiting.clear()
            if t.transport:
                t.transport.close()
        out = Path(self.args.out)
        with open(out / f"latency-{self.args.shard}.f64", "wb") as f:
            self.latency.tofile(f)
        with open(out / f"acked-{self.args.shard}.i64", "wb") as f:
            self.acked.tofile(f)
        return {
            "shard": self.args.shard,
            "terminals": len(mine),
            "logged_in": len(schedule),
            "login_s": round(login_s, 2),
            "login_failures": self.login_failures,
            "intended": len(schedule) * rounds,
            "sent": self.sent,
            "acked": len(self.acked) // 2,
            "failed": self.failed,
            "unanswered": unanswered,
            "generator_behind": self.behind,
            "span_s": round(max(0.0, self.last_ack - start), 2),  # schedule start -> last acknowledgement
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--protocol", choices=["jt808", "osmand"], default="jt808")
    p.add_argument("--devices", required=True, help="JSON: [[device_id, identifier, lat, lon, 终端ID or key], ...]")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--start-at", type=float, default=0.0, help="wall-clock time the schedule starts")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(Load(args).run())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
