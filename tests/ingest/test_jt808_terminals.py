"""JT/T 808 terminals one by one: a connection serves only the terminal that authenticated, silent
and unauthenticated connections are closed, an address holds only so many connections, vendor
items are read by the device's profile, and only an imported terminal may register."""

import asyncio
import datetime as dt
import socket

import pytest
from sqlalchemy import text

from geo.infra import db
from ingest.jt808 import frames, messages
from ingest.registry import devices
from tests.ingest.test_jt808_scale import TANGGU, terminals
from tests.webutil import run_async, terminal


def _closed_by_peer(sock: socket.socket, within: float = 5.0) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_connection_serves_only_the_terminal_that_authenticated(engine, service_factory):
    (a_id, a), (b_id, b) = terminals(engine, 2)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=7)

    def stored_for_b():
        with engine.connect() as c:
            return c.execute(
                text("SELECT count(*) FROM position WHERE device_id = :d AND fix_time = :t"), {"d": b_id, "t": when}
            ).scalar()

    assert stored_for_b() == 0

    async def scenario():
        service = await service_factory()
        term = terminal(a, service.jt808.port)
        await term.connect()
        # Before authenticating, nothing is buffered for reassembly.
        early = await term.send(frames.LOCATION, b"\x00" * 10, packet=(2, 1))
        await term.login()
        too_many = await term.send(frames.LOCATION, b"\x00" * 10, packet=(1000, 1))
        other = asyncio.get_running_loop().create_future()
        term.waiting[4242] = (other, 0)
        term.send_raw(frames.encode(frames.LOCATION, b, 4242, messages.location_body(*TANGGU, when)))
        answer = await asyncio.wait_for(other, 5)
        await asyncio.wait_for(term._reader_task, 5)  # the listener closed the line
        stats = service.stats()
        await service.stop()
        return early, too_many, answer, stats

    early, too_many, answer, stats = run_async(scenario())
    assert early == frames.RESULT_FAILURE and too_many == frames.RESULT_BAD_MESSAGE
    assert answer == frames.RESULT_FAILURE and stats["refused:jt808:other_terminal"] == 1
    assert stored_for_b() == 0  # nothing stored for the other number


def test_silent_and_unauthenticated_connections_are_closed(engine, service_factory):
    _, phone = terminals(engine, 1)[0]

    async def scenario():
        service = await service_factory(login_timeout_s=0.3, idle_timeout_s=1.0)
        port = service.jt808.port
        silent = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        anonymous_closed = await asyncio.to_thread(_closed_by_peer, silent)
        term = terminal(phone, port)
        await term.connect()
        await term.login()  # then says nothing more
        await asyncio.wait_for(term._reader_task, 5)
        stats = service.stats()
        await service.stop()
        silent.close()
        return anonymous_closed, stats

    anonymous_closed, stats = run_async(scenario())
    assert anonymous_closed and stats["refused:jt808:login_timeout"] >= 1 and stats["jt808:idle_closed"] == 1


def test_an_address_may_hold_only_so_many_connections(engine, service_factory):
    async def scenario():
        service = await service_factory(max_per_address=3)
        port = service.jt808.port
        held = [await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port)) for _ in range(3)]
        while service.stats().get("jt808:connections", 0) < 3:
            await asyncio.sleep(0.02)
        extra = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        refused = await asyncio.to_thread(_closed_by_peer, extra)
        held.pop().close()  # one leaves: there is room again
        while service.jt808.per_address.get("127.0.0.1", 0) > 2:
            await asyncio.sleep(0.02)
        again = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        await asyncio.to_thread(again.sendall, frames.encode(frames.HEARTBEAT, "13800000001", 1))
        again.settimeout(5)
        answered = await asyncio.to_thread(again.recv, 64)
        stats = service.stats()
        await service.stop()
        for s in [*held, extra, again]:
            s.close()
        return refused, answered, stats

    refused, answered, stats = run_async(scenario())
    assert refused and stats["refused:jt808:address_limit"] == 1
    assert frames.decode(answered[1:-1]).header.msg_id == frames.PLATFORM_RESPONSE


def test_vendor_items_are_read_by_the_devices_profile():
    from ingest.jt808 import profiles

    when = dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)
    body = messages.location_body(*TANGGU, when, camera=0b11) + bytes([0xD3, 2, 0x00, 0x7C, 0xD4, 1, 87])
    standard = messages.parse_location(body)  # a terminal of unknown firmware: nothing guessed
    assert standard.recording is None and not standard.storage_full
    assert standard.extras["vendor_items"] == {"e1": "03", "d3": "007c", "d4": "57"}
    camera = messages.parse_location(body, profiles.PROFILES["lawgrid-camera"])
    assert camera.recording is True and camera.storage_full
    battery = messages.parse_location(body, profiles.PROFILES["battery-e1"])
    assert battery.extras["battery_pct"] == 3 and battery.recording is None
    huabao = messages.parse_location(body, profiles.PROFILES["huabao"])
    assert huabao.extras["power_v"] == 12.4 and huabao.extras["battery_pct"] == 87


def test_a_terminal_that_reports_battery_in_0xe1_raises_no_camera_alarm(engine, service_factory, tmp_path):
    csv = tmp_path / "devices.csv"
    csv.write_text(
        "设备类型,协议,设备号,厂商协议,终端ID\n"
        "移动执法终端,JT/T 808,013977000001,battery-e1,7000001\n"
        "移动执法终端,JT/T 808,013977000002,huabao,7000002\n"
        "移动执法终端,JT/T 808,013977000003,acme,7000003\n",
        encoding="utf-8",
    )
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        report = devices.import_devices(s, csv)
    assert report.loaded == 2 and [line for line, _ in report.rejects] == [4]
    assert "vendor profile 'acme'" in report.rejects[0][1]
    with engine.connect() as c:
        ids = dict(
            (ident, device_id)
            for device_id, ident in c.execute(
                text("SELECT id, identifier FROM device WHERE identifier LIKE '0139770000%'")
            )
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async def scenario():
        service = await service_factory()
        results = []
        for number, extra in (("013977000001", b""), ("013977000002", bytes([0xD3, 2, 0x00, 0x7C, 0xD4, 1, 64]))):
            term = terminal(number, service.jt808.port)
            await term.connect()
            await term.login()
            for i, camera in enumerate((0b11, 0b10)):  # "recording, storage full", then "stopped"
                body = messages.location_body(*TANGGU, now - dt.timedelta(seconds=10 - i), camera=camera) + extra
                results.append(await term.send(frames.LOCATION, body))
            await term.close()
        await service.stop()
        return results

    try:
        assert run_async(scenario()) == [frames.RESULT_OK] * 4
        with engine.connect() as c:
            states = {
                r.device_id: r
                for r in c.execute(
                    text("SELECT device_id, battery, power_v, recording FROM device_state WHERE device_id = ANY(:i)"),
                    {"i": list(ids.values())},
                )
            }
            alarms = c.execute(
                text("SELECT count(*) FROM alarm WHERE device_id = ANY(:i)"), {"i": list(ids.values())}
            ).scalar()
        first, second = states[ids["013977000001"]], states[ids["013977000002"]]
        assert (first.battery, first.recording) == (2, None)  # 0xE1 = 0b10 read as 2 %
        assert (second.battery, second.power_v) == (64, pytest.approx(12.4))
        assert alarms == 0  # no "recording stopped", no "storage full"
    finally:
        with engine.begin() as c:
            for table in ("position", "alarm", "device_state"):
                c.execute(text(f"DELETE FROM {table} WHERE device_id = ANY(:i)"), {"i": list(ids.values())})
            c.execute(text("DELETE FROM device WHERE id = ANY(:i)"), {"i": list(ids.values())})


def test_only_the_imported_terminal_may_register_and_a_provisioned_code_needs_none(engine, service_factory, tmp_path):
    csv = tmp_path / "devices.csv"
    csv.write_text(
        "设备类型,协议,设备号,终端ID,鉴权码\n"
        "执法记录仪,JT/T 808,013966000001,CAM6601,\n"
        "执法记录仪,JT/T 808,013966000002,,PROVISIONED42\n"
        "执法记录仪,JT/T 808,013966000003,,bad code!\n",
        encoding="utf-8",
    )
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        report = devices.import_devices(s, csv)
    assert report.loaded == 2 and [line for line, _ in report.rejects] == [4]

    async def scenario():
        service = await service_factory()
        port = service.jt808.port
        impostor = terminal("013966000001", port)
        await impostor.connect()
        wrong, _ = await impostor.send(frames.REGISTER, messages.registration_body("OTHER01"))
        right, code = await impostor.send(frames.REGISTER, messages.registration_body("CAM6601"))
        await impostor.close()
        provisioned = terminal("013966000002", port)
        await provisioned.connect()
        unregistered, _ = await provisioned.send(frames.REGISTER, messages.registration_body("6000002"))
        authenticated = await provisioned.authenticate("PROVISIONED42")
        await provisioned.close()
        stats = service.stats()
        await service.stop()
        return wrong, right, code, unregistered, authenticated, stats

    try:
        wrong, right, code, unregistered, authenticated, stats = run_async(scenario())
        assert wrong == frames.REG_NO_TERMINAL and right == frames.REG_OK and len(code) == 8
        assert unregistered == frames.REG_NO_TERMINAL  # no terminal id on record: nobody is handed its code
        assert authenticated == frames.RESULT_OK
        assert stats["refused:jt808:registration_mismatch"] == 2
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM device WHERE identifier LIKE '0139660000%'"))
