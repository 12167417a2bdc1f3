"""JT/T 808 listener (TCP, default port 5015 as in Traccar).

Per connection: a terminal registers (0x0100 -> 0x8100 with an authentication code) or
authenticates (0x0102) before anything it reports is stored. A bad frame is answered with
the standard error response where its header could be read, counted, and the connection
goes on; its other frames are kept. Positions are acknowledged (0x8001) only once durable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable

from geo.telemetry.positions import Fix
from ingest.context import IngestContext
from ingest.jt808 import frames, messages, profiles
from ingest.listener import TcpListener

log = logging.getLogger("lawgrid.jt808")

MAX_PARTS = 128  # sub-packages of one message
MAX_REASSEMBLY_BYTES = 256 * 1024  # per connection
REASSEMBLY_AGE_S = 60.0


class Connection:
    def __init__(self, ctx: IngestContext, writer: asyncio.StreamWriter):
        self.ctx = ctx
        self.writer = writer
        self.device: dict | None = None
        self.phone: str | None = None
        self.version: int | None = None
        self.serial = 0
        self.key: str | None = None  # the authenticated terminal's number, as headers carry it
        self.parts_started: dict[tuple[int, int], float] = {}
        self.buffered = 0  # bytes of sub-packages waiting for their other parts
        self.closing = False
        self.opened = self.heard = time.monotonic()
        self.on_login: Callable[[Connection], None] | None = None
        self.outstanding = 0  # positions waiting to be durable (then acknowledged)
        self.settled = asyncio.Event()
        self.parts: dict[tuple[int, int], dict[int, bytes]] = {}

    def send(self, msg_id: int, body: bytes, phone: str | None = None) -> None:
        self.serial = (self.serial + 1) & 0xFFFF
        frame = frames.encode(msg_id, phone or self.phone or "0", self.serial, body, version=self.version)
        if not self.writer.is_closing():
            self.writer.write(frame)

    def respond(self, header: frames.Header, result: int) -> None:
        self.send(
            frames.PLATFORM_RESPONSE, messages.general_response(header.serial, header.msg_id, result), header.phone
        )

    def send_text(self, text: str) -> None:
        """Dispatch messages to the terminal's screen (0x8300)."""
        self.send(frames.TEXT_MESSAGE, messages.text_message(text, is_2019=self.version is not None))

    async def handle(self, content: bytes) -> None:
        try:
            msg = frames.decode(content)
        except frames.FrameError as exc:
            self.ctx.refuse(f"jt808:{exc.reason}")
            if exc.header is not None:
                self.respond(exc.header, frames.RESULT_BAD_MESSAGE)
            return
        header = msg.header
        if self.key is not None and header.phone != self.key:
            # One connection, one terminal: another number on it is refused and the line closed.
            self.ctx.refuse("jt808:other_terminal")
            self.respond(header, frames.RESULT_FAILURE)
            self.closing = True
            return
        self.phone = header.phone
        self.version = header.version
        if header.subpackaged:
            if self.device is None:  # nothing is buffered for a terminal not yet authenticated
                self.ctx.refuse("jt808:unauthenticated")
                self.respond(header, frames.RESULT_FAILURE)
                return
            try:
                body = self._reassemble(header, msg.body)
            except frames.FrameError as exc:
                self.ctx.refuse(f"jt808:{exc.reason}")
                self.respond(header, frames.RESULT_BAD_MESSAGE)
                return
            self.respond(header, frames.RESULT_OK)
            if body is None:
                return
            msg = frames.Message(header, body)
        try:
            await self.dispatch(msg)
        except frames.FrameError as exc:
            self.ctx.refuse(f"jt808:{exc.reason}")
            self.respond(header, frames.RESULT_BAD_MESSAGE)

    def _reassemble(self, header: frames.Header, body: bytes) -> bytes | None:
        """Bounded: at most MAX_PARTS parts, MAX_REASSEMBLY_BYTES buffered per connection,
        and a set not completed within REASSEMBLY_AGE_S is dropped."""
        assert header.packet_total is not None and header.packet_index is not None  # a sub-package
        now = time.monotonic()
        for stale in [k for k, started in self.parts_started.items() if now - started > REASSEMBLY_AGE_S]:
            self._drop_parts(stale)
        if not 1 <= header.packet_index <= header.packet_total <= MAX_PARTS:
            raise frames.FrameError("reassembly_limit", f"part {header.packet_index} of {header.packet_total}")
        if self.buffered + len(body) > MAX_REASSEMBLY_BYTES:
            self.parts.clear()
            self.parts_started.clear()
            self.buffered = 0
            raise frames.FrameError("reassembly_limit", "too many bytes waiting for their other parts")
        key = (header.msg_id, header.packet_total)
        parts = self.parts.setdefault(key, {})
        self.parts_started.setdefault(key, now)
        self.buffered += len(body) - len(parts.get(header.packet_index, b""))
        parts[header.packet_index] = body
        if len(parts) < header.packet_total:
            return None
        self._drop_parts(key)
        return b"".join(parts[i] for i in sorted(parts))

    def _drop_parts(self, key: tuple[int, int]) -> None:
        self.buffered -= sum(len(b) for b in self.parts.pop(key, {}).values())
        self.parts_started.pop(key, None)

    async def dispatch(self, msg: frames.Message) -> None:
        header, ctx = msg.header, self.ctx
        mid = header.msg_id
        if mid == frames.REGISTER:
            readings = messages.registration_readings(msg.body, header.is_2019)
            device = await ctx.device("jt808", header.phone)
            if device is None:
                ctx.refuse("jt808:unknown_terminal")
                self.send(frames.REGISTER_RESPONSE, messages.register_response(header.serial, frames.REG_NO_TERMINAL))
                return
            expected = (device.get("terminal_id") or "").upper()
            if not expected or all(r.terminal_id.upper() != expected for r in readings):
                # Registration hands out the authentication code: only to the terminal the
                # device was imported with (its 终端ID). A device with a provisioned code and
                # no terminal id authenticates directly.
                ctx.refuse("jt808:registration_mismatch")
                self.send(frames.REGISTER_RESPONSE, messages.register_response(header.serial, frames.REG_NO_TERMINAL))
                return
            try:
                code = await ctx.issue_auth_code(device)
            except Exception as exc:  # no answer: the terminal registers again after its timeout
                log.warning("terminal %s: no authentication code could be stored (%s)", header.phone, exc)
                ctx.refuse("jt808:registration_failed")
                return
            self.send(frames.REGISTER_RESPONSE, messages.register_response(header.serial, frames.REG_OK, code))
            ctx.counters["jt808:registered"] += 1
        elif mid == frames.AUTHENTICATE:
            code = messages.parse_authentication(msg.body, header.is_2019)
            device = await ctx.device("jt808", header.phone)
            if device is None or not ctx.auth_matches(device, code):
                ctx.refuse("jt808:bad_authentication")
                self.respond(header, frames.RESULT_FAILURE)
                return
            self.device = device
            self.key = frames.terminal_key(device["identifier"])
            ctx.counters["jt808:authenticated"] += 1
            self.respond(header, frames.RESULT_OK)
            if self.on_login is not None:
                self.on_login(self)  # e.g. the texts queued for it while it was away
        elif mid not in frames.KNOWN_IDS:
            ctx.refuse("jt808:unsupported_message")
            self.respond(header, frames.RESULT_UNSUPPORTED)
        elif self.device is None or self.key != header.phone:
            ctx.refuse("jt808:unauthenticated")
            self.respond(header, frames.RESULT_FAILURE)
        elif mid == frames.HEARTBEAT or mid == frames.TERMINAL_RESPONSE:
            if mid == frames.HEARTBEAT:
                ctx.heard(self.device["id"])  # keeps a terminal that only beats online
                self.respond(header, frames.RESULT_OK)
        elif mid == frames.DEREGISTER:
            await ctx.revoke_auth_code(self.device)
            self.respond(header, frames.RESULT_OK)
            self.device = self.key = None
        elif mid in (frames.LOCATION, frames.BATCH_LOCATION):
            vendor = profiles.PROFILES.get(self.device.get("profile") or "standard")
            if mid == frames.LOCATION:
                locations = [messages.parse_location(msg.body, vendor)]
            else:
                locations = messages.parse_batch(msg.body, vendor)
            device_id = self.device["id"]
            # Acknowledged once durable, without holding up the frames behind this one: the
            # frame's cost here is its decoding and an append to the next batch.
            self.outstanding += 1
            now = dt.datetime.now(dt.UTC)
            fixes = [to_fix(device_id, loc, now) for loc in locations]
            self.ctx.accept_then(fixes, lambda outcome: self._ack(header, outcome))

    def _ack(self, header: frames.Header, outcome: list[str] | BaseException) -> None:
        self.outstanding -= 1
        if isinstance(outcome, BaseException):
            log.error("storing JT/T 808 fixes failed: %s", outcome)
            self.respond(header, frames.RESULT_FAILURE)
        elif "quarantined" in outcome:  # the database refused it: kept for review, answered as refused
            self.respond(header, frames.RESULT_FAILURE)
        else:  # stored, or dropped for a data reason (counted): the terminal's queue moves on
            self.respond(header, frames.RESULT_OK)
        if self.outstanding == 0:
            self.settled.set()


def to_fix(device_id: int, loc: messages.Location, received_at: dt.datetime | None = None) -> Fix:
    alarms = loc.alarms
    if loc.storage_full:
        alarms.append("storage_full")
    extras = loc.extras
    attributes = {k: v for k, v in extras.items() if k not in ("camera", "battery_pct")} if extras else {}
    attributes["status"] = loc.status
    if not loc.fixed:  # status bit 1 clear: the terminal itself says this position is not a fix
        attributes["valid"] = False
    return Fix(
        device_id,
        loc.time,  # aware, UTC
        loc.lat,
        loc.lon,
        received_at or dt.datetime.now(dt.UTC),
        loc.speed_kmh,
        float(loc.course),
        float(loc.altitude_m),
        None,
        loc.recording,
        extras.get("battery_pct"),
        alarms,
        attributes,
    )


class Jt808Server(TcpListener):
    """The listener. A connection that has not authenticated within login_timeout_s, or has
    sent nothing for idle_timeout_s, is closed; an address may hold at most
    max_per_address connections (0: no limit; carriers' NAT puts many terminals behind one)."""

    protocol = "jt808"

    def __init__(
        self,
        ctx: IngestContext,
        host: str = "0.0.0.0",
        port: int = 5015,
        *,
        reuse_port: bool = False,
        login_timeout_s: float = 60.0,
        idle_timeout_s: float = 600.0,
        max_per_address: int = 2000,
    ):
        super().__init__(ctx, host, port, reuse_port=reuse_port, max_per_address=max_per_address)
        self.connections: dict[str, Connection] = {}  # authenticated terminals, for downlink
        self.open: set[Connection] = set()
        self.login_timeout_s, self.idle_timeout_s = login_timeout_s, idle_timeout_s
        self.on_login: Callable[[Connection], None] | None = None  # set by the service

    @property
    def watch_step_s(self) -> float:
        return max(0.05, min(self.login_timeout_s, self.idle_timeout_s) / 4)

    def expire(self, now: float) -> None:
        for conn in list(self.open):
            if conn.device is None and now - conn.opened > self.login_timeout_s:
                self.ctx.refuse("jt808:login_timeout")
            elif now - conn.heard > self.idle_timeout_s:
                self.ctx.counters["jt808:idle_closed"] += 1
            else:
                continue
            conn.writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = self.admit(writer)
        if address is None:
            return
        conn = Connection(self.ctx, writer)
        conn.on_login = self.on_login
        self.open.add(conn)
        splitter = frames.FrameSplitter()
        self.ctx.counters["jt808:connections"] += 1
        try:
            while not conn.closing and (data := await reader.read(1 << 16)):
                conn.heard = time.monotonic()
                for content in splitter.feed(data):
                    await conn.handle(content)
                    if conn.closing:
                        break
                    if conn.key and self.connections.get(conn.key) is not conn:
                        self._replace(conn)
                if writer.transport.get_write_buffer_size() > 1 << 16:
                    await writer.drain()  # a terminal that does not read its answers is slowed down
            while conn.outstanding:  # the terminal hung up: its last positions still get stored
                conn.settled.clear()
                await conn.settled.wait()
            await writer.drain()
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
            pass
        finally:
            if splitter.garbage:
                self.ctx.counters["refused:jt808:garbage"] += splitter.garbage
            for key in {conn.key, conn.phone}:
                if key and self.connections.get(key) is conn:
                    del self.connections[key]
            self.open.discard(conn)
            self.release(address)
            writer.close()

    async def stop(self) -> None:
        """Stop listening and hang up on every terminal (as a restart would): each logs in again,
        to this listener's successor. Fixes already received are still stored."""
        await super().stop()
        for conn in list(self.open):
            conn.closing = True
            conn.writer.close()

    def _replace(self, conn: Connection) -> None:
        """One authenticated connection per terminal (as Traccar keeps it): a new one closes the
        old, whose fixes already received are still stored. Only once authenticated: a downlink
        is never hijacked by a connection that merely names the number."""
        assert conn.key is not None
        old = self.connections.get(conn.key)
        self.connections[conn.key] = conn
        if old is not None and old is not conn and not old.closing:
            old.closing = True
            old.writer.close()
            self.ctx.counters["jt808:replaced"] += 1

    def authenticated(self) -> dict[int, Connection]:
        """The connected, authenticated terminals by device id."""
        return {c.device["id"]: c for c in self.connections.values() if c.device is not None}

    def send_text(self, phone: str, text: str) -> bool:
        """Push a text message to a connected terminal; False if it is not connected."""
        conn = self.connections.get(frames.terminal_key(phone))
        if conn is None or conn.device is None:
            return False
        conn.send_text(text)
        return True
