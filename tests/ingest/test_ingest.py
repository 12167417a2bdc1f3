"""The device listeners on real sockets, writing into the real PostGIS test database."""

import asyncio
import datetime as dt
import json
import re
from urllib.parse import urlencode

from sqlalchemy import text

from ingest.devices import OsmAndPhone
from ingest.jt808 import frames, messages
from tests.webutil import credentials, phone_client, run_async, terminal

TANGGU = (39.0131, 117.668309)


def registered(engine, protocol):
    with engine.connect() as c:
        return c.execute(
            text("SELECT id, identifier FROM device WHERE protocol = :p ORDER BY id LIMIT 1"), {"p": protocol}
        ).one()


def positions(engine, device_id):
    with engine.connect() as c:
        return c.execute(
            text(
                "SELECT fix_time, ST_Y(geom), ST_X(geom), speed_kmh, attributes FROM position "
                "WHERE device_id = :d ORDER BY fix_time"
            ),
            {"d": device_id},
        ).all()


def cleanup(engine, device_id):
    with engine.begin() as c:
        c.execute(text("DELETE FROM position WHERE device_id = :d"), {"d": device_id})
        c.execute(text("DELETE FROM alarm WHERE device_id = :d"), {"d": device_id})
        c.execute(text("DELETE FROM device_state WHERE device_id = :d"), {"d": device_id})


def run(coro):
    return run_async(coro)


def test_jt808_register_authenticate_report_and_bad_frames(engine, service_factory):
    dev_id, phone = registered(engine, "jt808")
    cleanup(engine, dev_id)

    async def scenario():
        service = await service_factory()
        term = terminal(phone, service.jt808.port)
        await term.connect()
        # Before authenticating, a position is refused and not stored.
        assert await term.location(*TANGGU) == frames.RESULT_FAILURE
        code = await term.register()
        assert len(code) == 8
        assert await term.authenticate("WRONG") == frames.RESULT_FAILURE
        assert await term.authenticate() == frames.RESULT_OK
        t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)
        assert await term.location(*TANGGU, t0, speed_kmh=12.5) == frames.RESULT_OK
        # A frame with a bad check code between good ones: error response, counted, others kept.
        bad = bytearray(
            frames.encode(
                frames.LOCATION, term.phone, 900, messages.location_body(39.02, 117.67, t0 + dt.timedelta(seconds=1))
            )
        )
        bad[-2] ^= 0x55
        err = asyncio.get_running_loop().create_future()
        term.waiting[900] = (err, 0)
        term.send_raw(bytes(bad))
        assert await asyncio.wait_for(err, 5) == frames.RESULT_BAD_MESSAGE
        # An unknown message id gets "not supported".
        assert await term.send(0x0999, b"") == frames.RESULT_UNSUPPORTED
        # Batch upload, and a sub-packaged location in two parts.
        locs = [messages.location_body(39.01 + i / 1000, 117.66, t0 + dt.timedelta(seconds=10 + i)) for i in range(3)]
        assert await term.send(frames.BATCH_LOCATION, messages.batch_body(locs)) == frames.RESULT_OK
        body = messages.location_body(39.03, 117.65, t0 + dt.timedelta(seconds=20), alarm=1)
        first = term.send(frames.LOCATION, body[:10], packet=(2, 1))
        second = term.send(frames.LOCATION, body[10:], packet=(2, 2))
        assert await first == frames.RESULT_OK and await second == frames.RESULT_OK
        assert await term.send(frames.HEARTBEAT) == frames.RESULT_OK
        # The same fix again is dropped as a duplicate (still acknowledged).
        assert await term.location(*TANGGU, t0, speed_kmh=12.5) == frames.RESULT_OK
        # Text message down to the terminal.
        assert service.jt808.send_text(phone, "请前往塘沽街道检查")
        for _ in range(250):  # the terminal's reader picks the text up off the socket
            if term.texts:
                break
            await asyncio.sleep(0.02)
        assert term.texts == ["请前往塘沽街道检查"]
        stats = service.stats()
        await term.close()
        await service.stop()
        return stats

    stats = run(scenario())
    rows = positions(engine, dev_id)
    assert len(rows) == 5  # first, three batched, the sub-packaged one; no duplicate
    assert rows[0][1:4] == (TANGGU[0], TANGGU[1], 12.5)
    assert stats["refused:jt808:unauthenticated"] == 1
    assert stats["refused:jt808:bad_authentication"] == 1
    assert stats["refused:jt808:bad_checksum"] == 1
    assert stats["refused:jt808:unsupported_message"] == 1
    assert stats["pipeline:duplicates"] == 1  # older than the last fix: dropped on insert
    with engine.connect() as c:
        alarm = c.execute(text("SELECT kind, status FROM alarm WHERE device_id = :d"), {"d": dev_id}).all()
        state = c.execute(text("SELECT ST_Y(geom), state FROM device_state WHERE device_id = :d"), {"d": dev_id}).one()
    assert alarm == [("sos", "open")]
    assert state == (39.03, "online")


def test_unknown_terminal_is_refused_and_nothing_stored(engine, service_factory):
    async def scenario():
        service = await service_factory()
        term = terminal("19999999999", service.jt808.port)
        await term.connect()
        result, _ = await term.send(frames.REGISTER, messages.registration_body())
        await term.close()
        stats = service.stats()
        await service.stop()
        return result, stats

    result, stats = run(scenario())
    assert result == frames.REG_NO_TERMINAL
    assert stats["refused:jt808:unknown_terminal"] == 1


def test_jt808_2019_terminal(engine, service_factory):
    dev_id, phone = registered(engine, "jt808")
    cleanup(engine, dev_id)

    async def scenario():
        service = await service_factory()
        term = terminal(phone, service.jt808.port, version=1)
        await term.connect()
        await term.login()
        when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=5)
        assert await term.location(39.05, 117.70, when, camera=1) == frames.RESULT_OK
        await term.close()
        await service.stop()

    run(scenario())
    rows = positions(engine, dev_id)
    assert [(r[1], r[2], r[4]["recording"]) for r in rows] == [(39.05, 117.70, True)]


def test_osmand_variants(engine, service_factory):
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async def scenario():
        service = await service_factory()
        phone = phone_client(ident, service.osmand.port)
        out = []
        # Query string with epoch seconds, speed in knots.
        out.append(await phone.position(39.0, 117.6, now - dt.timedelta(seconds=40), speed="10", batt="87"))
        # Form body with ISO 8601 time and an SOS alarm.
        body = urlencode(
            {
                "id": ident,
                "lat": 39.001,
                "lon": 117.601,
                "alarm": "sos",
                "timestamp": (now - dt.timedelta(seconds=30)).isoformat(),
            }
        )
        out.append(
            await phone.request("POST", "/", body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        )
        # Newer JSON body.
        doc = {
            "device_id": ident,
            "location": {
                "timestamp": (now - dt.timedelta(seconds=20)).isoformat().replace("+00:00", "Z"),
                "coords": {
                    "latitude": 39.002,
                    "longitude": 117.602,
                    "speed": 2.0,
                    "heading": 90,
                    "accuracy": 5,
                    "altitude": 3,
                },
                "battery": {"level": 0.5, "is_charging": True},
            },
        }
        out.append(await phone.request("POST", "/", json.dumps(doc).encode(), {"Content-Type": "application/json"}))
        # Bad input: missing lat, unknown device, from the future, far away, bad JSON.
        out.append(await phone.request("GET", f"/?id={ident}&lon=117.6"))
        out.append(await phone_client("not-registered", service.osmand.port).position(39.0, 117.6))
        out.append(await phone.position(39.0, 117.6, now + dt.timedelta(hours=2)))
        out.append(await phone.position(31.2, 121.5, now - dt.timedelta(seconds=10)))
        out.append(await phone.request("POST", "/", b"{oops", {"Content-Type": "application/json"}))
        await phone.close()
        await service.stop()
        return out

    out = run(scenario())
    # Data refusals are answered 2xx (the phone's queue moves on), saying why; malformed is 400.
    assert [s for s, _ in out] == [200, 200, 200, 400, 403, 200, 200, 400], out
    assert "missing lat" in out[3][1]
    assert "time_in_future" in out[5][1] and "far_from_district" in out[6][1]
    rows = positions(engine, dev_id)
    assert len(rows) == 3
    assert abs(rows[0][3] - 18.52) < 0.01  # 10 knots
    assert rows[0][4]["battery"] == 87
    assert abs(rows[2][3] - 7.2) < 0.01 and rows[2][4]["charging"] is True
    with engine.connect() as c:
        kinds = c.execute(text("SELECT kind FROM alarm WHERE device_id = :d"), {"d": dev_id}).scalars().all()
    assert kinds == ["sos"]


def test_body_camera_events_need_the_device_code(engine, service_factory):
    dev_id, phone = registered(engine, "jt808")
    cleanup(engine, dev_id)

    async def scenario():
        service = await service_factory()
        term = terminal(phone, service.jt808.port)
        await term.connect()
        await term.login()
        client = phone_client("-", service.osmand.port)
        base = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)

        def event(kind, s):
            when = (base + dt.timedelta(seconds=s)).isoformat()
            return json.dumps(
                {"protocol": "jt808", "id": phone, "event": kind, "time": when, "lat": 39.0, "lon": 117.6}
            ).encode()

        results = [
            await client.request("POST", "/events", event("recording_started", 1), {"X-Device-Auth": "nope"}),
            await client.request("POST", "/events", event("recording_started", 2), {"X-Device-Auth": term.auth_code}),
            await client.request("POST", "/events", event("recording_stopped", 3), {"X-Device-Auth": term.auth_code}),
            await client.request("POST", "/events", event("dancing", 4), {"X-Device-Auth": term.auth_code}),
        ]
        await client.close()
        await term.close()
        await service.stop()
        return results

    results = run(scenario())
    assert [s for s, _ in results] == [401, 200, 200, 400]
    with engine.connect() as c:
        kinds = c.execute(text("SELECT kind FROM alarm WHERE device_id = :d"), {"d": dev_id}).scalars().all()
        recording = c.execute(text("SELECT recording FROM device_state WHERE device_id = :d"), {"d": dev_id}).scalar()
    assert kinds == ["recording_stopped"] and recording is False


def test_an_osmand_device_with_a_key_is_refused_without_it(engine, service_factory, tmp_path):
    from geo.infra import db
    from ingest.registry import devices

    csv = tmp_path / "devices.csv"
    csv.write_text(
        "设备类型,协议,设备号,设备密钥\n移动执法终端,osmand,keyed-phone-1,Xq7-secret_2026\n", encoding="utf-8"
    )
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        assert devices.import_devices(s, csv).loaded == 1
    with engine.connect() as c:
        device_id = c.execute(text("SELECT id FROM device WHERE identifier = 'keyed-phone-1'")).scalar_one()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def query(seconds_ago, **extra):
        when = (now - dt.timedelta(seconds=seconds_ago)).timestamp()
        return urlencode({"id": "keyed-phone-1", "lat": TANGGU[0], "lon": TANGGU[1], "timestamp": when, **extra})

    async def scenario():
        service = await service_factory()
        phone = OsmAndPhone("keyed-phone-1", "127.0.0.1", service.osmand.port)  # no key configured
        answers = [
            (await phone.request("GET", "/?" + query(30)))[0],  # no key
            (await phone.request("GET", "/?" + query(29, key="wrong-key-123")))[0],
            (await phone.request("GET", "/?id=keyed-phone-1"))[0],  # a heartbeat without the key
            (await phone.request("GET", "/?" + query(28, key="Xq7-secret_2026")))[0],
            (await phone.request("GET", "/k/Xq7-secret_2026?" + query(27)))[0],  # the key in the server URL
        ]
        stats = service.stats()
        await phone.close()
        await service.stop()
        return answers, stats

    try:
        answers, stats = run(scenario())
        assert answers == [403, 403, 403, 200, 200] and stats["refused:osmand:bad_key"] == 3
        assert len(positions(engine, device_id)) == 2
    finally:
        cleanup(engine, device_id)
        with engine.begin() as c:
            c.execute(text("DELETE FROM device WHERE id = :d"), {"d": device_id})


def test_the_osmand_listener_limits_each_address_and_closes_silent_connections(service_factory):
    import socket

    async def scenario():
        service = await service_factory(max_per_address=2, idle_timeout_s=2.5)  # read timeout: 0.5 s
        port = service.osmand.port
        held = [await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port)) for _ in range(2)]
        while sum(service.osmand.per_address.values()) < 2:
            await asyncio.sleep(0.02)
        extra = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        extra.settimeout(5)
        refused = await asyncio.to_thread(extra.recv, 64)  # closed at once: b""
        held[0].settimeout(5)
        silent = await asyncio.to_thread(held[0].recv, 64)  # closed after the read timeout
        stats = service.stats()
        await service.stop()
        for s in [*held, extra]:
            s.close()
        return refused, silent, stats

    refused, silent, stats = run(scenario())
    assert refused == b"" and silent == b""
    assert stats["refused:osmand:address_limit"] == 1 and stats["osmand:idle_closed"] >= 1


def test_pipelined_osmand_requests_are_answered_in_order_and_all_stored(engine, service_factory):
    """A phone that is behind sends its queue without waiting for each answer (HTTP/1.1
    pipelining): every request is answered, in order, and every good fix is stored, even with
    an unknown device's request (looked up off the loop) and a malformed one among them."""
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    t0 = int(dt.datetime.now(dt.UTC).timestamp()) - 60
    key = credentials("osmand", ident)

    def get(query: str, close: bool = False) -> bytes:
        last = "Connection: close\r\n" if close else ""
        return f"GET /k/{key}?{query} HTTP/1.1\r\nHost: x\r\n{last}\r\n".encode()

    async def scenario():
        service = await service_factory()
        reader, writer = await asyncio.open_connection("127.0.0.1", service.osmand.port)
        writer.write(
            get(f"id={ident}&lat=39.01&lon=117.60&timestamp={t0}")
            + get(f"id=nobody-{t0}&lat=39.01&lon=117.60&timestamp={t0}")
            + get(f"id={ident}&lat=39.02&lon=117.61&timestamp={t0 + 1}")
            + get(f"id={ident}&lon=117.61&timestamp={t0 + 2}")
            + get(f"id={ident}&lat=39.03&lon=117.62&timestamp={t0 + 3}", close=True)
        )
        raw = await asyncio.wait_for(reader.read(), 10)  # until the listener closes the line
        writer.close()
        await service.stop()
        return raw

    raw = run(scenario())
    statuses = [int(code) for code in re.findall(r"HTTP/1\.1 (\d{3}) ", raw.decode())]
    assert statuses == [200, 403, 200, 400, 200], raw
    rows = positions(engine, dev_id)
    assert [round(r[1], 2) for r in rows] == [39.01, 39.02, 39.03]
    cleanup(engine, dev_id)


def test_query_strings_read_as_the_standard_library_reads_them():
    from urllib.parse import parse_qsl

    from ingest.osmand.requests import query_params

    for query in [
        "id=1&lat=39.0&lon=117.6",
        "a=&b&c=%41+b&d=x%3Dy",
        "timestamp=2026-12-03T10%3A00%3A00%2B08%3A00&id=a+b",
        "&&x=1&x=2",
        "k=v=w",
        "%E4%B8%AD=%E6%96%87",
        "",
    ]:
        assert query_params(query) == dict(parse_qsl(query, keep_blank_values=True)), query


def test_an_osmand_request_head_that_never_ends_is_closed(engine, service_factory):
    """A slow-loris connection (a byte now and then, never the blank line) is closed after the
    header timeout, long before the idle timeout; a phone that sends its request whole is served."""
    import socket

    from tests.webutil import PATIENCE_S

    async def scenario():
        service = await service_factory(osmand_header_timeout_s=0.5, idle_timeout_s=600)
        port = service.osmand.port
        loris = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        loris.sendall(b"GET /?id=slow HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        loris.settimeout(PATIENCE_S)
        for _ in range(3):  # a byte now and then keeps no head alive
            loris.sendall(b"a")
            await asyncio.sleep(0.1)
        closed = await asyncio.to_thread(loris.recv, 64)
        stats = service.stats()
        await service.stop()
        loris.close()
        return closed, stats

    closed, stats = run(scenario())
    assert closed == b"" and stats["osmand:header_timeout"] == 1 and stats.get("osmand:idle_closed", 0) == 0
