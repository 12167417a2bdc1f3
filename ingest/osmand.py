"""OsmAnd listener (HTTP, default port 5055 as in Traccar), as the Traccar Client app sends:
`/?id=..&lat=..&lon=..&timestamp=..` in the query string or a form body, or the newer JSON
body. Also `POST /events`: body-camera events, authenticated with the device's code.

A small HTTP/1.1 server on asyncio's protocol callbacks (keep-alive, pipelining,
Content-Length bodies): devices send tiny requests at a steady rate, so a full web framework
would only add latency."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from geo.telemetry.positions import Fix
from ingest.context import IngestContext
from ingest.listener import BACKLOG, TcpListener

log = logging.getLogger("lawgrid.osmand")

MAX_BODY = 64 * 1024
EVENTS = {"recording_started", "recording_stopped", "sos", "low_battery", "storage_full"}
KNOTS_TO_KMH = 1.852


class BadRequest(ValueError):
    pass


def _required(params: dict, *names: str) -> float:
    value = _number(params, *names, required=True)
    assert value is not None  # required=True raised otherwise
    return value


def _number(params: dict, *names: str, required: bool = False) -> float | None:
    for name in names:
        if name in params and params[name] not in ("", None):
            try:
                value = float(params[name])
            except (TypeError, ValueError):
                raise BadRequest(f"{name} must be a number, got {params[name]!r}") from None
            if not math.isfinite(value):
                raise BadRequest(f"{name} must be finite")
            return value
    if required:
        raise BadRequest(f"missing {names[0]}")
    return None


def parse_time(value) -> dt.datetime:
    if value in (None, ""):
        return dt.datetime.now(dt.UTC)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"timestamp {text!r} is neither epoch seconds nor ISO 8601") from None
        return _plausible(parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC), text)
    if not math.isfinite(number):
        raise BadRequest(f"timestamp {text!r} is not a time")
    if number > 1e11:  # milliseconds
        number /= 1000
    try:
        parsed = dt.datetime.fromtimestamp(number, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"timestamp {text!r} is out of range") from None
    return _plausible(parsed, text)


EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # no fix of a device of ours is older


def _plausible(when: dt.datetime, text: str) -> dt.datetime:
    if when < EARLIEST:
        raise BadRequest(f"timestamp {text!r} is before 2000: a clock that was never set")
    return when


def parse_osmand(params: dict) -> tuple[str, dict]:
    """(device id, fields) from query/form parameters."""
    device_id = params.get("id") or params.get("deviceid")
    if not device_id:
        raise BadRequest("missing id")
    if "lat" not in params and "lon" not in params and "," in str(params.get("location", "")):
        params = {**params, "lat": params["location"].split(",", 1)[0], "lon": params["location"].split(",", 1)[1]}
    lat = _required(params, "lat")
    lon = _required(params, "lon")
    speed = _number(params, "speed")  # Traccar Client sends knots
    battery = _number(params, "batt", "battery")
    return device_id, dict(
        lat=lat,
        lon=lon,
        fix_time=parse_time(params.get("timestamp")),
        speed_kmh=None if speed is None else speed * KNOTS_TO_KMH,
        course=_number(params, "bearing", "heading"),
        altitude_m=_number(params, "altitude"),
        accuracy_m=_number(params, "accuracy", "hdop"),
        battery=battery,
        alarms=["sos"] if params.get("alarm") in ("sos", "general", "true", "1") else [],
        attributes={"charging": params.get("charge") in ("true", "1")} if "charge" in params else {},
    )


def parse_osmand_json(body: dict) -> tuple[str, dict]:
    """The JSON body of newer Traccar Client versions."""
    try:
        location = body["location"]
        coords = location["coords"]
        device_id = body.get("device_id") or body.get("id")
    except (KeyError, TypeError):
        raise BadRequest("JSON body needs location.coords and device_id") from None
    if not device_id:
        raise BadRequest("missing device_id")
    if not isinstance(coords, dict):
        raise BadRequest("location.coords must be an object")
    # Every number goes through the one validated parser: a string, NaN or infinity is refused here.
    params = {"lat": coords.get("latitude"), "lon": coords.get("longitude")}
    lat, lon = _required(params, "lat"), _required(params, "lon")
    battery = location.get("battery") or {}
    if not isinstance(battery, dict):
        raise BadRequest("location.battery must be an object")
    level = _number(battery, "level")
    speed = _number(coords, "speed")  # metres per second
    heading = _number(coords, "heading")  # -1: the phone knows no course
    extras = location.get("extras") or {}
    if not isinstance(extras, dict):
        extras = {}
    return str(device_id), dict(
        lat=lat,
        lon=lon,
        fix_time=parse_time(location.get("timestamp")),
        speed_kmh=None if speed is None or speed < 0 else float(speed) * 3.6,
        course=None if heading is None or heading < 0 else heading,
        altitude_m=_number(coords, "altitude"),
        accuracy_m=_number(coords, "accuracy"),
        battery=None if level is None or level < 0 else level * 100,
        alarms=["sos"] if extras.get("alarm") == "sos" else [],
        attributes={"charging": bool(battery.get("is_charging"))} if "is_charging" in battery else {},
    )


def query_params(query: str) -> dict[str, str]:
    """A query string or form body as parse_qsl(keep_blank_values=True) reads it, in a third
    of its time: only a part with an escape or a plus is unquoted."""
    params = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        params[name] = value
    return params


def _path_key(path: str) -> str | None:
    """The key of a server URL ending in /k/KEY."""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if len(parts) >= 2 and parts[-2] == "k" else None


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
        self.buffer += data
        self._process()

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


class OsmAndServer(TcpListener):
    """HTTP/1.1 keep-alive, as the Traccar Client speaks it. A request must arrive whole within
    read_timeout_s of the connection falling silent (an idle keep-alive connection is closed
    then, a slow one too); an address may hold at most max_per_address connections."""

    protocol = "osmand"

    def __init__(
        self,
        ctx: IngestContext,
        host: str = "0.0.0.0",
        port: int = 5055,
        *,
        reuse_port: bool = False,
        read_timeout_s: float = 120.0,
        max_per_address: int = 2000,
    ):
        super().__init__(ctx, host, port, reuse_port=reuse_port, max_per_address=max_per_address)
        self.read_timeout_s = read_timeout_s
        self.open: set[HttpConnection] = set()

    async def _listen(self) -> asyncio.Server:
        """Protocol callbacks (HttpConnection), not a stream and a coroutine per connection."""
        return await asyncio.get_running_loop().create_server(
            lambda: HttpConnection(self), self.host, self.port, backlog=BACKLOG, reuse_port=self.reuse_port or None
        )

    async def stop(self) -> None:
        await super().stop()
        for conn in list(self.open):
            if conn.transport is not None:
                conn.transport.close()

    @property
    def watch_step_s(self) -> float:
        return max(0.05, self.read_timeout_s / 4)

    def expire(self, now: float) -> None:
        """A connection waiting longer than read_timeout_s for its next request (idle, or
        sending it too slowly) is closed; one waiting for its answers is not."""
        for conn in list(self.open):
            if not conn.answers and now - conn.waiting_since > self.read_timeout_s and conn.transport:
                self.ctx.counters["osmand:idle_closed"] += 1
                conn.transport.close()

    def serve(self, method: str, target: str, headers: dict, body: bytes, answer: Answer) -> bool:
        """Answer one request: at once (refused, or a heartbeat), once its fix is durable, or,
        for a device not yet cached and for camera events, from a task (then True)."""
        url = urlsplit(target)
        if url.path == "/events" and method == "POST":
            self._spawn(self._event(headers, body), answer)
            return True
        if method not in ("GET", "POST"):
            self.ctx.refuse("osmand:bad_method")
            answer(405, "send positions with GET or POST")
            return False
        try:
            ident, key, fields = self._parse(url.query, url.path, headers, body)
        except BadRequest as exc:
            self.ctx.refuse("osmand:bad_request")
            answer(400, str(exc))
            return False
        device = self.ctx.cached_device("osmand", ident)
        if device is None:  # its first request since ingest started, or not registered
            self._spawn(self._looked_up(ident, key, fields, answer), answer)
            return True
        self._position(device, ident, key, fields, answer)
        return False

    def _parse(self, query: str, path: str, headers: dict, body: bytes) -> tuple[str, str | None, dict | None]:
        """(device identifier, key, fields); fields None for a request with no position."""
        # Any path: the Traccar Client keeps whatever path its server URL has, which is where a
        # device key goes (server URL http://host:5055/k/KEY), or ?key=KEY.
        params = query_params(query)
        key = params.pop("key", None) or _path_key(path)
        if body and "json" in headers.get("content-type", ""):
            try:
                data = json.loads(body)
            except ValueError:
                raise BadRequest("body is not valid JSON") from None
            ident, fields = parse_osmand_json(data)
            return ident, key, fields
        if body:
            params.update(query_params(body.decode("utf-8", "replace")))
        if params.get("id") and not {"lat", "lon", "location"} & set(params):
            return str(params["id"]), key, None  # cell or Wi-Fi only: a heartbeat
        ident, fields = parse_osmand(params)
        return ident, key, fields

    def _spawn(self, work: Coroutine[Any, Any, tuple[int, str] | None], answer: Answer) -> None:
        task = asyncio.get_running_loop().create_task(work)

        def finished(t: asyncio.Task) -> None:
            if t.cancelled():
                return
            if t.exception() is not None:
                log.error("OsmAnd request failed", exc_info=t.exception())
                answer(503, "not stored: try again")
            elif (result := t.result()) is not None:
                answer(*result)

        task.add_done_callback(finished)

    async def _looked_up(self, ident: str, key: str | None, fields: dict | None, answer: Answer) -> None:
        self._position(await self.ctx.device("osmand", ident), ident, key, fields, answer)

    def _position(self, device: dict | None, ident: str, key: str | None, fields: dict | None, answer: Answer) -> None:
        refusal = self._refusal(device, ident, key)
        if refusal:
            answer(*refusal)
            return
        assert device is not None
        if fields is None:  # no position, but the phone is alive (it stays online)
            self.ctx.heard(device["id"])
            self.ctx.counters["osmand:heartbeat"] += 1
            answer(200, "OK (no position: heartbeat)")
            return
        fix = Fix(device_id=device["id"], received_at=dt.datetime.now(dt.UTC), **fields)

        def stored(outcome: list[str] | BaseException) -> None:
            if isinstance(outcome, BaseException):  # neither stored nor spooled: the phone retries
                log.error("storing an OsmAnd fix failed: %s", outcome)
                answer(503, "not stored: try again")
            elif outcome:
                # A data reason (duplicate, outside the district, too old, from the future): the
                # phone re-sends its oldest fix until it hears 2xx, so it hears 2xx and its
                # queue moves on; the fix is counted and kept for review.
                if outcome[0] != "quarantined":  # (the pipeline keeps those itself)
                    self.ctx.pipeline.quarantine.add(fix, outcome[0])
                answer(200, f"OK; not stored ({outcome[0]}), kept for review")
            else:
                answer(200, "OK")

        self.ctx.accept_then([fix], stored)

    def _refusal(self, device: dict | None, ident: str, key: str | None) -> tuple[int, str] | None:
        """403 for a device not registered, or one with a key (device_key) asked without it."""
        if device is None:
            self.ctx.refuse("osmand:unknown_device")
            return 403, f"device {ident} is not registered"
        expected = device.get("device_key")
        if expected and not (key and hmac.compare_digest(str(expected).encode(), key.encode())):
            self.ctx.refuse("osmand:bad_key")
            return 403, f"device {ident} needs its key: server URL http://HOST:PORT/k/KEY (or ?key=KEY)"
        return None

    async def _event(self, headers: dict, body: bytes) -> tuple[int, str]:
        """Body-camera event: {"protocol", "id", "event", "time", "lat"?, "lon"?} with the
        header X-Device-Auth set to the device's authentication code."""
        try:
            data = json.loads(body)
            protocol, ident, event = str(data["protocol"]), str(data["id"]), str(data["event"])
        except (ValueError, KeyError, TypeError):
            self.ctx.refuse("events:bad_request")
            return 400, 'send JSON {"protocol", "id", "event", "time"}'
        if event not in EVENTS:
            self.ctx.refuse("events:unknown_event")
            return 400, f"event must be one of {', '.join(sorted(EVENTS))}"
        device = await self.ctx.device(protocol, ident)
        code = headers.get("x-device-auth")
        if device is None or not self.ctx.auth_matches(device, code or ""):
            self.ctx.refuse("events:unauthenticated")
            return 401, "unknown device or wrong X-Device-Auth code"
        try:
            lat = _required(data, "lat")
            lon = _required(data, "lon")
            when = parse_time(data.get("time"))
        except BadRequest as exc:
            return 400, str(exc)
        fix = Fix(
            device_id=device["id"],
            fix_time=when,
            lat=lat,
            lon=lon,
            received_at=dt.datetime.now(dt.UTC),
            recording={"recording_started": True, "recording_stopped": False}.get(event),
            alarms=[event] if event in ("sos", "low_battery", "storage_full") else [],
            attributes={"event": event},
        )
        rejected = await self.ctx.accept([fix])
        if rejected:
            return 400, f"event rejected: {rejected[0]}"
        return 200, "OK"
