"""Device-side protocol clients: a JT/T 808 terminal and a Traccar Client (OsmAnd) phone.
Used by the simulator, the benchmark and the tests; they speak to the real listeners over
real sockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
import time
from typing import Any
from urllib.parse import urlencode

from ingest.jt808 import frames, messages


class DeviceRefused(RuntimeError):
    pass


class Jt808Terminal:
    """A terminal: registers with its 终端ID (the platform gives the authentication code only to
    the terminal the device was imported with), then authenticates with the code."""

    def __init__(self, phone: str, host: str, port: int, *, terminal_id: str, version: int | None = None):
        self.phone, self.host, self.port, self.version = phone, host, port, version
        self.terminal_id = terminal_id
        self.serial = 0
        self.auth_code: str | None = None
        self.reader: Any = None  # asyncio.StreamReader once connected
        self.writer: Any = None  # asyncio.StreamWriter once connected
        self.splitter = frames.FrameSplitter()
        self.waiting: dict[int, tuple[asyncio.Future, float]] = {}
        self.texts: list[str] = []
        self.ack_ms: list[float] = []
        self._reader_task: asyncio.Task | None = None
        self._frames: asyncio.Queue = asyncio.Queue()

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self._reader_task = asyncio.create_task(self._read())

    @property
    def closed(self) -> bool:
        """The line is gone (the server closed it, restarted, or replaced it): log in again."""
        return (
            self.writer is None
            or self.writer.is_closing()
            or (self._reader_task is not None and self._reader_task.done())
        )

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionResetError, BrokenPipeError):
                pass
        if self._reader_task:
            self._reader_task.cancel()

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(1 << 16):
                for content in self.splitter.feed(data):
                    msg = frames.decode(content)
                    self._on_message(msg)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            for fut, _ in self.waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("connection closed"))

    def _on_message(self, msg: frames.Message) -> None:
        mid = msg.header.msg_id
        if mid == frames.PLATFORM_RESPONSE:
            reply_serial, _reply_id, result = struct.unpack(">HHB", msg.body[:5])
            self._resolve(reply_serial, result)
        elif mid == frames.REGISTER_RESPONSE:
            reply_serial, result = struct.unpack(">HB", msg.body[:3])
            self._resolve(reply_serial, (result, msg.body[3:].decode("ascii")))
        elif mid == frames.TEXT_MESSAGE:
            offset = 2 if self.version is not None else 1
            self.texts.append(msg.body[offset:].decode("gbk", "replace"))

    def _resolve(self, serial: int, value) -> None:
        entry = self.waiting.pop(serial, None)
        if entry and not entry[0].done():
            self.ack_ms.append((time.perf_counter() - entry[1]) * 1000)
            entry[0].set_result(value)

    def send_raw(self, frame: bytes) -> None:
        self.writer.write(frame)

    def send(self, msg_id: int, body: bytes = b"", *, packet=None) -> asyncio.Future:
        self.serial = (self.serial + 1) & 0xFFFF
        fut = asyncio.get_running_loop().create_future()
        self.waiting[self.serial] = (fut, time.perf_counter())
        self.writer.write(frames.encode(msg_id, self.phone, self.serial, body, version=self.version, packet=packet))
        return fut

    async def register(self) -> str:
        result, code = await asyncio.wait_for(
            self.send(frames.REGISTER, messages.registration_body(self.terminal_id, is_2019=self.version is not None)),
            10,
        )
        if result != frames.REG_OK:
            raise DeviceRefused(f"registration refused with result {result}")
        self.auth_code = code
        return code

    async def authenticate(self, code: str | None = None) -> int:
        return await asyncio.wait_for(
            self.send(
                frames.AUTHENTICATE,
                messages.authentication_body(code or self.auth_code or "", is_2019=self.version is not None),
            ),
            10,
        )

    async def login(self) -> None:
        await self.register()
        result = await self.authenticate()
        if result != frames.RESULT_OK:
            raise DeviceRefused(f"authentication refused with result {result}")

    def location(self, lat: float, lon: float, when: dt.datetime | None = None, **kw) -> asyncio.Future:
        when = when or dt.datetime.now(dt.UTC)
        return self.send(frames.LOCATION, messages.location_body(lat, lon, when, **kw))


class OsmAndPhone:
    """Traccar Client over HTTP/1.1 keep-alive: query-string positions. With its key, the
    phone's server URL is http://HOST:PORT/k/KEY, so every request goes under that path."""

    def __init__(self, device_id: str, host: str, port: int, *, key: str | None = None):
        self.device_id, self.host, self.port, self.key = device_id, host, port, key
        self.reader: Any = None
        self.writer: Any = None
        self.ack_ms: list[float] = []

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer:
            self.writer.close()

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, str]:
        if self.writer is None:
            await self.connect()
        t0 = time.perf_counter()
        if self.key:
            target = self._keyed(target)
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readuntil(b"\r\n")
        headers_raw = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in headers_raw.decode().split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        text = (await self.reader.readexactly(length)).decode() if length else ""
        self.ack_ms.append((time.perf_counter() - t0) * 1000)
        return int(status_line.split()[1]), text

    def _keyed(self, target: str) -> str:
        """The request as a phone configured with http://HOST:PORT/k/KEY sends it: under that path
        when it goes to the root, else with ?key=KEY (other paths, as Traccar's own variants)."""
        path, sep, query = target.partition("?")
        if "key=" in query or "/k/" in path:
            return target  # the request names its own key (a test of a wrong one, say)
        if path == "/":
            return f"/k/{self.key}" + (f"?{query}" if sep else "")
        return f"{path}?{query}&key={self.key}" if sep else f"{path}?key={self.key}"

    async def position(self, lat: float, lon: float, when: dt.datetime | None = None, **extra) -> tuple[int, str]:
        when = when or dt.datetime.now(dt.UTC)
        params = {
            "id": self.device_id,
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "timestamp": f"{when.timestamp():.3f}",
            **extra,
        }
        return await self.request("GET", "/?" + urlencode(params))
