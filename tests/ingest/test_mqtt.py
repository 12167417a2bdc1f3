"""MQTT ingest against a real Mosquitto broker that the test starts on a free port."""

import asyncio
import datetime as dt
import json
import shutil
import socket
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import text

from geo.infra import db
from ingest.service import IngestConfig, IngestService
from tests.ingest.test_ingest import cleanup, positions
from tests.webutil import PATIENCE_S, run_async

IDENT = "mqtt-gw-0001"


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp_path_factory.mktemp("mosquitto") / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {proc.stdout.read().decode()}") from None
            time.sleep(0.05)
    yield f"mqtt://127.0.0.1:{port}", port
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def mqtt_device(engine):
    with engine.begin() as c:
        officer = c.execute(text("SELECT id FROM officer ORDER BY id LIMIT 1")).scalar_one()
        device_id = c.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier, officer_id) VALUES ('terminal', 'mqtt', :i, :o) "
                "ON CONFLICT (protocol, identifier) DO UPDATE SET officer_id = EXCLUDED.officer_id RETURNING id"
            ),
            {"i": IDENT, "o": officer},
        ).scalar_one()
    cleanup(engine, device_id)
    yield device_id
    cleanup(engine, device_id)
    with engine.begin() as c:  # other tests count the seeded devices
        c.execute(text("DELETE FROM device WHERE id = :d"), {"d": device_id})


class Publisher:
    """A device-side MQTT client that also listens for the platform's rejections."""

    def __init__(self, port: int):
        self.rejections: list[tuple[str, str]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{time.time_ns()}")
        self.client.on_message = lambda c, u, m: self.rejections.append((m.topic, m.payload.decode()))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("lawgrid/devices/+/rejected", qos=1)
        self.client.loop_start()

    def send(self, ident: str, payload) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(f"lawgrid/devices/{ident}/telemetry", body, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def fix(t: dt.datetime, **kw) -> dict:
    return {"lat": 39.0131, "lon": 117.6683, "time": t.isoformat(), "speed": 18.0, **kw}


def wait_for(predicate, timeout=PATIENCE_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


async def started(engine, tmp_path, url, client_id="lawgrid-ingest-test", prefix="lawgrid"):
    config = IngestConfig(
        dsn=db.raw_psycopg_url(engine),
        spool_path=tmp_path / f"spool-{client_id}.jsonl",
        mqtt_topic_prefix=prefix,
        host="127.0.0.1",
        jt808_port=0,
        osmand_port=0,
        mqtt_url=url,
        mqtt_client_id=client_id,
    )
    service = IngestService(config, db.make_sessionmaker(engine))
    await service.start()
    await asyncio.wait_for(service.mqtt.subscribed.wait(), 10)
    return service


def test_positions_events_and_bad_messages(engine, tmp_path, broker, mqtt_device):
    url, port = broker
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=2)

    async def scenario():
        service = await started(engine, tmp_path, url)
        device = Publisher(port)
        try:
            await asyncio.to_thread(device.send, IDENT, fix(t0))
            await asyncio.to_thread(device.send, IDENT, b"{not json")  # refused, counted
            await asyncio.to_thread(device.send, IDENT, fix(t0, lat=52.5))  # far from Binhai
            await asyncio.to_thread(device.send, "no-such-device", fix(t0))  # unknown device
            # A batch in one message, with an SOS event.
            await asyncio.to_thread(
                device.send,
                IDENT,
                [fix(t0 + dt.timedelta(seconds=1), recording=True), fix(t0 + dt.timedelta(seconds=2), event="sos")],
            )
            assert await asyncio.to_thread(wait_for, lambda: len(positions(engine, mqtt_device)) == 3)
            assert await asyncio.to_thread(wait_for, lambda: len(device.rejections) == 3)
            return service.stats(), list(device.rejections)
        finally:
            device.close()
            await service.stop()

    stats, rejections = run_async(scenario())
    rows = positions(engine, mqtt_device)
    assert [r[0] for r in rows] == [t0 + dt.timedelta(seconds=i) for i in range(3)]
    assert rows[0][3] == pytest.approx(18.0)
    assert stats["refused:mqtt:bad_message"] == 1
    assert stats["refused:mqtt:unknown_device"] == 1
    assert stats["rejected:far_from_district"] == 1
    mine = [r for topic, r in rejections if topic == f"lawgrid/devices/{IDENT}/rejected"]
    assert sorted(mine) == ["payload is not valid JSON", "position rejected: far_from_district"]
    assert rejections.count(("lawgrid/devices/no-such-device/rejected", "device no-such-device is not registered")) == 1
    with engine.connect() as c:
        alarm = c.execute(text("SELECT kind, status FROM alarm WHERE device_id = :d"), {"d": mqtt_device}).all()
        state = c.execute(
            text("SELECT recording FROM device_state WHERE device_id = :d"), {"d": mqtt_device}
        ).scalar_one()
    assert alarm == [("sos", "open")]
    assert state is True


def test_messages_sent_while_the_listener_is_down_arrive_after_restart(engine, tmp_path, broker, mqtt_device):
    """The subscription is persistent: the broker keeps QoS 1 messages for the listener."""
    url, port = broker
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)

    async def scenario():
        service = await started(engine, tmp_path, url, "lawgrid-ingest-restart")
        await service.stop()
        device = Publisher(port)
        for i in range(20):
            await asyncio.to_thread(device.send, IDENT, fix(t0 + dt.timedelta(seconds=i)))
        device.close()
        service = await started(engine, tmp_path, url, "lawgrid-ingest-restart")
        try:
            return await asyncio.to_thread(wait_for, lambda: len(positions(engine, mqtt_device)) == 20)
        finally:
            await service.stop()

    assert run_async(scenario())
    rows = positions(engine, mqtt_device)
    assert [r[0] for r in rows] == [t0 + dt.timedelta(seconds=i) for i in range(20)]


def test_two_instances_with_their_own_client_ids_and_prefixes_share_a_broker(engine, tmp_path, broker, mqtt_device):
    """Another LawGrid instance (a second site, a staging copy) on the same broker no longer
    kicks the first off: each has its own client id and topic prefix."""
    url, port = broker
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=3)

    async def scenario():
        first = await started(engine, tmp_path, url, client_id="lawgrid-site-a")
        second = await started(engine, tmp_path, url, client_id="lawgrid-site-b", prefix="binhai/site-b")
        sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{time.time_ns()}")
        sender.connect("127.0.0.1", port)
        sender.loop_start()
        try:
            body = json.dumps(fix(t0)).encode()
            sender.publish(f"binhai/site-b/devices/{IDENT}/telemetry", body, qos=1).wait_for_publish(5)
            assert await asyncio.to_thread(wait_for, lambda: len(positions(engine, mqtt_device)) == 1)
            return first.mqtt.client.is_connected(), second.mqtt.client.is_connected(), first.stats()
        finally:
            sender.loop_stop()
            sender.disconnect()
            await first.stop()
            await second.stop()

    first_up, second_up, first_stats = run_async(scenario())
    assert first_up and second_up  # neither took the other's session
    assert first_stats.get("accepted", 0) == 0  # the first instance's topics are its own
