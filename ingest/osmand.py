"""OsmAnd listener (HTTP, default port 5055 as in Traccar), as the Traccar Client app sends:
`/?id=..&lat=..&lon=..&timestamp=..` in the query string or a form body, or the newer JSON
body. Also `POST /events`: body-camera events, authenticated with the device's code.

A small HTTP/1.1 server on asyncio streams (keep-alive, Content-Length bodies): devices
send tiny requests at a steady rate, so a full web framework would only add latency."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import math
from urllib.parse import parse_qsl, urlsplit

from geo.telemetry import Fix
from ingest.context import IngestContext
from ingest.listener import TcpListener

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


def _path_key(path: str) -> str | None:
    """The key of a server URL ending in /k/KEY."""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if len(parts) >= 2 and parts[-2] == "k" else None


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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = self.admit(writer)
        if address is None:
            return
        try:
            while True:
                try:  # (a timeout scope, not wait_for: no task per request)
                    async with asyncio.timeout(self.read_timeout_s):
                        request = await self._read_request(reader)
                except TimeoutError:
                    self.ctx.counters["osmand:idle_closed"] += 1
                    break
                if request is None:
                    break
                method, target, headers, body = request
                status, text = await self.handle(method, target, headers, body)
                keep = headers.get("connection", "").lower() != "close"
                payload = text.encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
                    f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if not keep:
                    break
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
            pass
        finally:
            self.release(address)
            writer.close()

    async def _read_request(self, reader):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            self.ctx.refuse("osmand:header_too_large")
            return None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self.ctx.refuse("osmand:bad_request_line")
            return None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            return None
        if length > MAX_BODY:
            self.ctx.refuse("osmand:body_too_large")
            return None
        body = await reader.readexactly(length) if length else b""
        return parts[0], parts[1], headers, body

    async def handle(self, method: str, target: str, headers: dict, body: bytes) -> tuple[int, str]:
        url = urlsplit(target)
        try:
            if url.path == "/events" and method == "POST":
                return await self._event(headers, body)
            if method not in ("GET", "POST"):
                self.ctx.refuse("osmand:bad_method")
                return 405, "send positions with GET or POST"
            # Any path: the Traccar Client keeps whatever path its server URL has, which is
            # where a device key goes (server URL http://host:5055/k/KEY), or ?key=KEY.
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            key = params.pop("key", None) or _path_key(url.path)
            ctype = headers.get("content-type", "")
            if body and "json" in ctype:
                try:
                    data = json.loads(body)
                except ValueError:
                    raise BadRequest("body is not valid JSON") from None
                ident, fields = parse_osmand_json(data)
            else:
                if body:
                    params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                if params.get("id") and not {"lat", "lon", "location"} & set(params):
                    return await self._heartbeat(str(params["id"]), key)
                ident, fields = parse_osmand(params)
        except BadRequest as exc:
            self.ctx.refuse("osmand:bad_request")
            return 400, str(exc)
        device = await self.ctx.device("osmand", ident)
        refusal = self._refusal(device, ident, key)
        if refusal:
            return refusal
        assert device is not None
        fix = Fix(device_id=device["id"], received_at=dt.datetime.now(dt.UTC), **fields)
        rejected = await self.ctx.accept([fix])
        if rejected:
            # A data reason (duplicate, outside the district, too old, from the future): the
            # phone re-sends its oldest fix until it hears 2xx, so it hears 2xx and its queue
            # moves on; the fix is counted and kept for review.
            if rejected[0] != "quarantined":  # (the pipeline keeps those itself)
                self.ctx.pipeline.quarantine.add(fix, rejected[0])
            return 200, f"OK; not stored ({rejected[0]}), kept for review"
        return 200, "OK"

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

    async def _heartbeat(self, ident: str, key: str | None = None) -> tuple[int, str]:
        """Cell or Wi-Fi only: no position, but the phone is alive (it stays online)."""
        device = await self.ctx.device("osmand", ident)
        refusal = self._refusal(device, ident, key)
        if refusal:
            return refusal
        assert device is not None
        self.ctx.heard(device["id"])
        self.ctx.counters["osmand:heartbeat"] += 1
        return 200, "OK (no position: heartbeat)"

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
