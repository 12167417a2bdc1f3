"""A small HTTP/1.1 connection on asyncio's protocol callbacks: keep-alive, pipelining in order,
Content-Length bodies, a header size limit; devices send tiny requests at a steady rate, so a
full web framework would only add latency."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ingest.osmand.requests import MAX_BODY

if TYPE_CHECKING:  # the server owns its connections; a connection only calls back
    from ingest.osmand.server import OsmAndServer

log = logging.getLogger("lawgrid.osmand")

OK_KEEP_ALIVE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"
    b"Connection: keep-alive\r\n\r\nOK"
)
MAX_HEAD = 64 * 1024
MAX_PIPELINED = 64  # requests read ahead of their answers before the connection stops reading

Answer = Callable[[int, str], None]


def response(status: int, text: str, keep: bool) -> bytes:
    if status == 200 and keep and text == "OK":
        return OK_KEEP_ALIVE
    payload = text.encode()
    return (
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode()
        + payload
    )


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection, on asyncio's protocol callbacks rather than a stream and a
    coroutine (the hot path: no task, no timer and no await per request). Requests are parsed
    as they arrive, pipelined ones too, and answered in order, each once its fix is durable."""

    def __init__(self, server: OsmAndServer):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.address: str | None = None
        self.buffer = bytearray()
        self.answers: deque[list] = deque()  # per request in order: [response bytes or None]
        self.waiting_since = time.monotonic()  # for the next request (the read timeout)
        self.head_started: float | None = None  # a request's first byte came: its head has HEADER_TIMEOUT_S
        self.done = False  # a `Connection: close` request was read, or the connection was refused
        self.slow: list | None = None  # the slot of a request served from a task: the ones behind wait
        self.paused = self.write_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.address = self.server.admit(transport)
        if self.address is None:
            self.done = True
            return
        self.server.open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # Fixes already handed over are still stored; only their answers have nowhere to go.
        self.server.open.discard(self)
        if self.address is not None:
            self.server.release(self.address)
            self.address = None

    def pause_writing(self) -> None:  # the phone does not read its answers: stop reading it
        self.write_paused = True
        self._pause()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._resume()

    def _pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.paused and not self.write_paused and len(self.answers) < MAX_PIPELINED and self.transport:
            self.paused = False
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.done:
            return
        if not self.buffer:
            self.head_started = time.monotonic()
        self.buffer += data
        self._process()
        if not self.buffer:
            self.head_started = None

    def _process(self) -> None:
        """Serve the whole requests buffered. While one is served from a task (its device's
        first request, an event), the ones behind it wait, so a device's fixes keep their order."""
        while not self.done and self.slow is None and (request := self._next()) is not None:
            self.waiting_since = time.monotonic()
            method, target, headers, body = request
            keep = headers.get("connection", "").lower() != "close"
            slot: list = [None]
            self.answers.append(slot)
            if not keep:
                self.done = True
            try:
                if self.server.serve(method, target, headers, body, self._answer(slot, keep)) and slot[0] is None:
                    self.slow = slot
            except Exception:  # a defect, not the phone's fault: logged, and the line goes on
                log.exception("OsmAnd request %s %s failed", method, target[:200])
                self.server.ctx.refuse("osmand:internal_error")
                self._answer(slot, keep)(500, "the server failed on this request")
        if len(self.answers) >= MAX_PIPELINED:
            self._pause()

    def _next(self) -> tuple[str, str, dict[str, str], bytes] | None:
        """The next whole request from the buffer; None while incomplete. A request over the
        limits, or not HTTP, is refused (counted) and the connection closed."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._fail("osmand:header_too_large")
            return None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self._fail("osmand:bad_request_line")
            return None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._fail("osmand:bad_content_length")
            return None
        if length > MAX_BODY or length < 0:
            self._fail("osmand:body_too_large")
            return None
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        return parts[0], parts[1], headers, body

    def _fail(self, reason: str) -> None:
        self.server.ctx.refuse(reason)
        self.done = True
        self.buffer.clear()
        self._flush()  # what was answered before it still goes out, then the line closes

    def _answer(self, slot: list, keep: bool) -> Answer:
        def answer(status: int, text: str) -> None:
            slot[0] = response(status, text, keep)
            self._flush()
            if slot is self.slow:  # the requests behind it may go on now
                self.slow = None
                self._process()

        return answer

    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        while self.answers and self.answers[0][0] is not None:
            data = self.answers.popleft()[0]
            if not transport.is_closing():
                transport.write(data)
        if not self.answers:
            self.waiting_since = time.monotonic()
            if self.done:
                transport.close()
        self._resume()
