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
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from geo.telemetry.positions import Fix
from ingest.context import IngestContext
from ingest.listener import BACKLOG, TcpListener
from ingest.osmand.http import Answer, HttpConnection
from ingest.osmand.requests import (
    EVENTS,
    BadRequest,
    _path_key,
    _required,
    parse_osmand,
    parse_osmand_json,
    parse_time,
    query_params,
)

log = logging.getLogger("lawgrid.osmand")


REFUSED = "unknown device or wrong key: the phone's server URL is http://HOST:PORT/k/KEY (or ?key=KEY)"


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
        keyless: bool = False,
        header_timeout_s: float = 10.0,
    ):
        super().__init__(ctx, host, port, reuse_port=reuse_port, max_per_address=max_per_address)
        self.read_timeout_s = read_timeout_s
        self.keyless = keyless  # accept devices that have no key (a closed network, configured so)
        self.header_timeout_s = header_timeout_s  # a request's head arrives whole within this
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
        return max(0.05, min(self.read_timeout_s, self.header_timeout_s) / 4)

    def expire(self, now: float) -> None:
        """A connection waiting longer than read_timeout_s for its next request (idle) is
        closed, and one whose request has begun but whose head has not ended within
        header_timeout_s (a byte now and then, never the blank line); one waiting for its
        answers is not."""
        for conn in list(self.open):
            if conn.answers or not conn.transport:
                continue
            if conn.head_started is not None and now - conn.head_started > self.header_timeout_s:
                self.ctx.counters["osmand:header_timeout"] += 1
                conn.transport.close()
            elif now - conn.waiting_since > self.read_timeout_s:
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
        """One answer, 403, for a device not registered, one asked without its key or with a wrong
        one, and one that has no key where key-less devices are not allowed: the answer never
        tells an unknown id from a known one (the counters, for the operator, do)."""
        expected = device.get("device_key") if device is not None else None
        reason: str | None
        if device is None:
            reason = "osmand:unknown_device"
        elif expected is None:
            reason = None if self.keyless else "osmand:keyless_device"
        elif not (key and hmac.compare_digest(str(expected).encode(), key.encode())):
            reason = "osmand:bad_key"
        else:
            reason = None
        if reason is None:
            return None
        self.ctx.refuse(reason)
        return 403, REFUSED

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
