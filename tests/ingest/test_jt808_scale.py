"""JT/T 808 at the district's scale: logins that cost no write and no scan, every terminal
number real terminals send, and a listener that survives running out of descriptors."""

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import text

from geo.infra import db
from ingest import registry
from ingest.devices import Jt808Terminal
from ingest.jt808 import codec
from tests.webutil import run_async

TANGGU = (39.0131, 117.668309)


def terminals(engine, n):
    with engine.connect() as c:
        return c.execute(
            text("SELECT id, identifier FROM device WHERE protocol = 'jt808' ORDER BY id LIMIT :n"), {"n": n}
        ).all()


def row_versions(engine, ids):
    """Each device row's xmin: it changes whenever the row is written."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, xmin::text FROM device WHERE id = ANY(:i)"), {"i": list(ids)})
        return {device_id: version for device_id, version in rows}


def test_a_reconnect_storm_logs_every_terminal_in_without_writing(engine, service_factory):
    fleet = terminals(engine, 300)
    assert len(fleet) == 300

    async def storm(port):
        async def one(phone):
            term = Jt808Terminal(phone, "127.0.0.1", port)
            await term.connect()
            await term.login()
            return term

        terms = await asyncio.gather(*(one(phone) for _, phone in fleet))
        for term in terms:
            await term.close()
        return [t.auth_code for t in terms]

    async def scenario():
        service = await service_factory()
        first = await storm(service.jt808.port)  # a device without a code gets one, stored once
        await service.stop()
        before = row_versions(engine, [d for d, _ in fleet])
        service = await service_factory()  # a restart: every terminal logs back in at once
        second = await storm(service.jt808.port)
        stats = service.stats()
        await service.stop()
        return first, second, before, stats

    first, second, before, stats = run_async(scenario())
    assert second == first  # the same codes, remembered
    assert row_versions(engine, before) == before  # and not one device row written by 300 logins
    assert stats["jt808:authenticated"] == 300 and not any(k.startswith("refused:") for k in stats)


def test_a_terminal_is_found_through_the_index(engine):
    with engine.begin() as c:
        c.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            c.execute(
                text(
                    "EXPLAIN SELECT id FROM device WHERE protocol = 'jt808' "
                    "AND lawgrid_terminal_key(identifier) = lawgrid_terminal_key('013800000001')"
                )
            ).scalars()
        )
    assert "device_terminal_key" in plan


@pytest.mark.parametrize(
    ("number", "version"),
    [("000000000000", None), ("a1b2c3d4e5f6", None), ("86451203987654321", 1)],
    ids=["all-zero", "hex", "imei-2019"],
)
def test_unusual_terminal_numbers_import_log_in_and_report(engine, service_factory, tmp_path, number, version):
    csv = tmp_path / "devices.csv"
    csv.write_text(
        f"设备类型,协议,设备号,终端ID\n执法记录仪,JT/T 808,{number.upper()},{number[-7:]}\n", encoding="utf-8"
    )
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        report = registry.import_devices(s, csv)
    assert report.loaded == 1, report.rejects
    with engine.connect() as c:
        device_id = c.execute(
            text("SELECT id FROM device WHERE protocol = 'jt808' AND identifier = :i"), {"i": number.lower()}
        ).scalar_one()
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=3)

    async def scenario():
        service = await service_factory()
        term = Jt808Terminal(number, "127.0.0.1", service.jt808.port, version=version)
        await term.connect()
        await term.login()
        result = await term.location(*TANGGU, when)
        await term.close()
        await service.stop()
        return result

    try:
        assert run_async(scenario()) == codec.RESULT_OK
        with engine.connect() as c:
            stored = c.execute(text("SELECT fix_time FROM position WHERE device_id = :d"), {"d": device_id}).scalars()
            assert list(stored) == [when]
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM position WHERE device_id = :d"), {"d": device_id})
            c.execute(text("DELETE FROM device_state WHERE device_id = :d"), {"d": device_id})
            c.execute(text("DELETE FROM device WHERE id = :d"), {"d": device_id})


def test_a_2011_terminal_registers(engine, service_factory):
    _, phone = terminals(engine, 1)[0]
    body = codec.registration_body(phone[-7:], edition=2011)  # the terminal id it was imported with
    assert len(body) < 38 and codec.parse_registration(body, False).terminal_id == phone[-7:]
    # With a 17-character VIN for a plate, a 2011 body is as long as a 2013 one: both readings.
    vin = body[: 4 + 5 + 8 + 7 + 1] + b"LGRIDVIN000000017"  # province, city, maker, model, id, colour
    assert phone[-7:] in [r.terminal_id for r in codec.registration_readings(vin, False)]

    async def scenario():
        service = await service_factory()
        term = Jt808Terminal(phone, "127.0.0.1", service.jt808.port)
        await term.connect()
        result, code = await term.send(codec.REGISTER, body)
        authenticated = await term.authenticate(code)
        await term.close()
        await service.stop()
        return result, authenticated

    assert run_async(scenario()) == (codec.REG_OK, codec.RESULT_OK)


def test_a_time_that_is_not_bcd_spoils_only_its_frame():
    body = bytearray(codec.location_body(*TANGGU, dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)))
    assert codec.parse_location(bytes(body)).time == dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)
    body[22] = 0x2A  # year "2A"
    with pytest.raises(codec.FrameError) as err:
        codec.parse_location(bytes(body))
    assert err.value.reason == "bad_time"
    body[22], body[24] = 0x26, 0x32  # day 32
    with pytest.raises(codec.FrameError):
        codec.parse_location(bytes(body))


def test_two_ingest_processes_can_share_a_port(engine):
    from ingest.context import IngestContext
    from ingest.jt808.server import Jt808Server

    async def scenario():
        ctx = IngestContext(db.make_sessionmaker(engine), pipeline=None)  # type: ignore[arg-type]
        first = Jt808Server(ctx, "127.0.0.1", 0, reuse_port=True)
        await first.start()
        second = Jt808Server(ctx, "127.0.0.1", first.port, reuse_port=True)
        await second.start()  # without SO_REUSEPORT: "address already in use"
        ports = (first.port, second.port)
        await first.stop()
        await second.stop()
        ctx.close()
        return ports

    first, second = run_async(scenario())
    assert first == second


RUN_OUT = textwrap.dedent(
    """
    import asyncio, json, logging, resource, sys
    from ingest.context import IngestContext
    from ingest.jt808.server import Jt808Server
    from ingest.listener import AcceptGuard

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")

    async def main():
        ctx = IngestContext(None, None)
        AcceptGuard(ctx, asyncio.get_running_loop()).install()
        server = Jt808Server(ctx, "127.0.0.1", 0)
        await server.start()
        import os
        used = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (used + 8, used + 8))  # room for 8 connections
        print(server.port, flush=True)
        while (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip() != "quit":
            print(json.dumps(dict(ctx.counters)), flush=True)  # asked for the counters

    asyncio.run(main())
    """
)


def test_running_out_of_descriptors_is_logged_once_and_accepting_resumes(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_OUT],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(tmp_path / "listener.log", "w"),  # noqa: SIM115 - the child holds it
        text=True,
    )
    try:
        port = int(child.stdout.readline())
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]  # more than it may hold
        log = tmp_path / "listener.log"
        deadline = time.monotonic() + 10
        while "out of file descriptors" not in log.read_text():
            assert time.monotonic() < deadline, "the listener never hit its limit"
            time.sleep(0.05)

        def refusals():
            child.stdin.write("\n")
            child.stdin.flush()
            return json.loads(child.stdout.readline()).get("refused:accept:out_of_descriptors", 0)

        while refusals() < 3:  # asyncio retries once a second while out of descriptors
            assert time.monotonic() < deadline + 10, "the listener stopped retrying"
            time.sleep(0.1)
        for s in held:
            s.close()
        # Accepting again: an unauthenticated heartbeat is answered (with a refusal).
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(codec.encode(codec.HEARTBEAT, "13800000001", 1))
                    answer = s.recv(64)
                if answer:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the listener did not accept again"
            time.sleep(0.2)
        child.stdin.write("quit\n")
        child.stdin.flush()
    finally:
        child.kill()
        child.wait()
    assert codec.decode(answer[1:-1]).header.msg_id == codec.PLATFORM_RESPONSE
    assert log.read_text().count("out of file descriptors") == 1  # not once per retry


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
        term = Jt808Terminal(a, "127.0.0.1", service.jt808.port)
        await term.connect()
        # Before authenticating, nothing is buffered for reassembly.
        early = await term.send(codec.LOCATION, b"\x00" * 10, packet=(2, 1))
        await term.login()
        too_many = await term.send(codec.LOCATION, b"\x00" * 10, packet=(1000, 1))
        other = asyncio.get_running_loop().create_future()
        term.waiting[4242] = (other, 0)
        term.send_raw(codec.encode(codec.LOCATION, b, 4242, codec.location_body(*TANGGU, when)))
        answer = await asyncio.wait_for(other, 5)
        await asyncio.wait_for(term._reader_task, 5)  # the listener closed the line
        stats = service.stats()
        await service.stop()
        return early, too_many, answer, stats

    early, too_many, answer, stats = run_async(scenario())
    assert early == codec.RESULT_FAILURE and too_many == codec.RESULT_BAD_MESSAGE
    assert answer == codec.RESULT_FAILURE and stats["refused:jt808:other_terminal"] == 1
    assert stored_for_b() == 0  # nothing stored for the other number


def test_silent_and_unauthenticated_connections_are_closed(engine, service_factory):
    _, phone = terminals(engine, 1)[0]

    async def scenario():
        service = await service_factory(login_timeout_s=0.3, idle_timeout_s=1.0)
        port = service.jt808.port
        silent = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", port))
        anonymous_closed = await asyncio.to_thread(_closed_by_peer, silent)
        term = Jt808Terminal(phone, "127.0.0.1", port)
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
        await asyncio.to_thread(again.sendall, codec.encode(codec.HEARTBEAT, "13800000001", 1))
        again.settimeout(5)
        answered = await asyncio.to_thread(again.recv, 64)
        stats = service.stats()
        await service.stop()
        for s in [*held, extra, again]:
            s.close()
        return refused, answered, stats

    refused, answered, stats = run_async(scenario())
    assert refused and stats["refused:jt808:address_limit"] == 1
    assert codec.decode(answered[1:-1]).header.msg_id == codec.PLATFORM_RESPONSE


def test_vendor_items_are_read_by_the_devices_profile():
    from ingest.jt808 import profiles

    when = dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)
    body = codec.location_body(*TANGGU, when, camera=0b11) + bytes([0xD3, 2, 0x00, 0x7C, 0xD4, 1, 87])
    standard = codec.parse_location(body)  # a terminal of unknown firmware: nothing guessed
    assert standard.recording is None and not standard.storage_full
    assert standard.extras["vendor_items"] == {"e1": "03", "d3": "007c", "d4": "57"}
    camera = codec.parse_location(body, profiles.PROFILES["lawgrid-camera"])
    assert camera.recording is True and camera.storage_full
    battery = codec.parse_location(body, profiles.PROFILES["battery-e1"])
    assert battery.extras["battery_pct"] == 3 and battery.recording is None
    huabao = codec.parse_location(body, profiles.PROFILES["huabao"])
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
        report = registry.import_devices(s, csv)
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
            term = Jt808Terminal(number, "127.0.0.1", service.jt808.port)
            await term.connect()
            await term.login()
            for i, camera in enumerate((0b11, 0b10)):  # "recording, storage full", then "stopped"
                body = codec.location_body(*TANGGU, now - dt.timedelta(seconds=10 - i), camera=camera) + extra
                results.append(await term.send(codec.LOCATION, body))
            await term.close()
        await service.stop()
        return results

    try:
        assert run_async(scenario()) == [codec.RESULT_OK] * 4
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
        report = registry.import_devices(s, csv)
    assert report.loaded == 2 and [line for line, _ in report.rejects] == [4]

    async def scenario():
        service = await service_factory()
        port = service.jt808.port
        impostor = Jt808Terminal("013966000001", "127.0.0.1", port)
        await impostor.connect()
        wrong, _ = await impostor.send(codec.REGISTER, codec.registration_body("OTHER01"))
        right, code = await impostor.send(codec.REGISTER, codec.registration_body("CAM6601"))
        await impostor.close()
        provisioned = Jt808Terminal("013966000002", "127.0.0.1", port)
        await provisioned.connect()
        unregistered, _ = await provisioned.send(codec.REGISTER, codec.registration_body("6000002"))
        authenticated = await provisioned.authenticate("PROVISIONED42")
        await provisioned.close()
        stats = service.stats()
        await service.stop()
        return wrong, right, code, unregistered, authenticated, stats

    try:
        wrong, right, code, unregistered, authenticated, stats = run_async(scenario())
        assert wrong == codec.REG_NO_TERMINAL and right == codec.REG_OK and len(code) == 8
        assert unregistered == codec.REG_NO_TERMINAL  # no terminal id on record: nobody is handed its code
        assert authenticated == codec.RESULT_OK
        assert stats["refused:jt808:registration_mismatch"] == 2
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM device WHERE identifier LIKE '0139660000%'"))
