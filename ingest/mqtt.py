"""MQTT ingest (optional, when LAWGRID_MQTT_URL is set): JSON positions and events published
by devices or a gateway on `lawgrid/devices/{id}/telemetry`, QoS 1.

The subscription is persistent (clean_session off, a fixed client id) and acknowledged by
hand only once the pipeline holds the message durably, so the broker redelivers whatever a
crashed listener had not yet stored. A rejected message is acknowledged too (a redelivery
would be rejected again) and its reason published on `lawgrid/devices/{id}/rejected`.

Payload: one object or a list of them, each
  {"lat", "lon", "time" (epoch seconds or ISO 8601), "speed" (km/h), "course", "altitude",
   "accuracy", "battery" (%), "recording" (bool), "alarms" ["sos", ...] or "event": "sos"}
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from geo.telemetry.positions import Fix
from ingest.context import IngestContext
from ingest.osmand.requests import EVENTS, BadRequest, _number, _required, parse_time

log = logging.getLogger("lawgrid.ingest.mqtt")

TOPIC = "{prefix}/devices/+/telemetry"
ALARMS = {"sos", "low_battery", "storage_full", "overspeed", "power_loss"}
MAX_PAYLOAD = 256 * 1024


def parse_url(url: str) -> dict:
    """mqtt://[user[:password]@]host[:port] or mqtts:// (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ValueError(f"LAWGRID_MQTT_URL must start with mqtt:// or mqtts://, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"LAWGRID_MQTT_URL has no host: {url!r}")
    return dict(
        host=parts.hostname,
        port=parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def parse_message(device_id: int, payload: bytes, now: dt.datetime) -> list[Fix]:
    if len(payload) > MAX_PAYLOAD:
        raise BadRequest("payload larger than 256 KiB")
    try:
        data = json.loads(payload)
    except ValueError:
        raise BadRequest("payload is not valid JSON") from None
    items = data if isinstance(data, list) else [data]
    fixes = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("each message must be a JSON object")
        event = item.get("event")
        if event is not None and event not in EVENTS:
            raise BadRequest(f"event must be one of {', '.join(sorted(EVENTS))}")
        alarms = item.get("alarms") or []
        if not isinstance(alarms, list) or not set(alarms) <= ALARMS:
            raise BadRequest(f"alarms must be a list drawn from {', '.join(sorted(ALARMS))}")
        if event in ALARMS:
            alarms = [*alarms, event]
        recording = item.get("recording")
        if event in ("recording_started", "recording_stopped"):
            recording = event == "recording_started"
        if recording is not None and not isinstance(recording, bool):
            raise BadRequest("recording must be true or false")
        fixes.append(
            Fix(
                device_id=device_id,
                fix_time=parse_time(item.get("time")),
                received_at=now,
                lat=_required(item, "lat"),
                lon=_required(item, "lon"),
                speed_kmh=_number(item, "speed"),
                course=_number(item, "course"),
                altitude_m=_number(item, "altitude"),
                accuracy_m=_number(item, "accuracy"),
                battery=_number(item, "battery"),
                recording=recording,
                alarms=list(dict.fromkeys(alarms)),
                attributes={"event": event} if event else {},
            )
        )
    return fixes


class MqttListener:
    """Subscribes on paho's network thread; each message is handled on the ingest loop."""

    def __init__(self, ctx: IngestContext, url: str, client_id: str = "lawgrid-ingest", prefix: str = "lawgrid"):
        self.ctx = ctx
        self.options = parse_url(url)
        self.client_id = client_id
        self.prefix = prefix.strip("/")
        self.topic = TOPIC.format(prefix=self.prefix)
        self.client: mqtt.Client | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False, manual_ack=True
        )
        if self.options["username"]:
            client.username_pw_set(self.options["username"], self.options["password"])
        if self.options["tls"]:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.max_inflight_messages_set(1000)
        client.reconnect_delay_set(1, 30)
        self.client = client
        client.connect_async(self.options["host"], self.options["port"], keepalive=30)
        client.loop_start()

    async def stop(self) -> None:
        if self.client:
            self.client.disconnect()
            await asyncio.to_thread(self.client.loop_stop)

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the connection: %s", reason)
            return
        client.subscribe(self.topic, qos=1)
        log.info("MQTT: subscribed to %s on %s:%s", self.topic, self.options["host"], self.options["port"])

    def _on_subscribe(self, *_args: Any) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.subscribed.set)

    def _on_message(self, client, userdata, msg) -> None:
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(self._handle(msg.topic, msg.payload, msg.mid, msg.qos), self.loop)

    async def _handle(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        parts = topic[len(self.prefix) + 1 :].split("/") if topic.startswith(self.prefix + "/") else []
        ident = parts[1] if len(parts) == 3 else ""
        try:
            await self._accept(ident, payload)
        except Exception:  # not acknowledged: the broker redelivers it after a reconnect
            log.exception("MQTT message on %s could not be handled", topic)
            return
        # Acknowledged once the pipeline holds it durably (or once it was judged bad).
        if qos > 0 and self.client is not None:
            self.client.ack(mid, qos)

    async def _accept(self, ident: str, payload: bytes) -> None:
        device = await self.ctx.device("mqtt", ident)
        if device is None:
            self.ctx.refuse("mqtt:unknown_device")
            return self._reject(ident, f"device {ident} is not registered")
        try:
            fixes = parse_message(device["id"], payload, dt.datetime.now(dt.UTC))
        except BadRequest as exc:
            self.ctx.refuse("mqtt:bad_message")
            return self._reject(ident, str(exc))
        rejected = await self.ctx.accept(fixes)
        if rejected:
            self._reject(ident, f"position rejected: {', '.join(sorted(set(rejected)))}")

    def _reject(self, ident: str, reason: str) -> None:
        if self.client is not None:
            self.client.publish(f"{self.prefix}/devices/{ident}/rejected", reason, qos=0)
