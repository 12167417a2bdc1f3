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
from ingest.jt808 import frames, messages
from ingest.registry import devices
from tests.webutil import credentials, run_async, terminal

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
            term = terminal(phone, port)
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
        report = devices.import_devices(s, csv)
    assert report.loaded == 1, report.rejects
    with engine.connect() as c:
        device_id = c.execute(
            text("SELECT id FROM device WHERE protocol = 'jt808' AND identifier = :i"), {"i": number.lower()}
        ).scalar_one()
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=3)

    async def scenario():
        service = await service_factory()
        term = terminal(number, service.jt808.port, version=version)
        await term.connect()
        await term.login()
        result = await term.location(*TANGGU, when)
        await term.close()
        await service.stop()
        return result

    try:
        assert run_async(scenario()) == frames.RESULT_OK
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
    tid = credentials("jt808", phone)
    body = messages.registration_body(tid, edition=2011)  # the terminal id it was imported with
    assert len(body) < 38 and messages.parse_registration(body, False).terminal_id == tid
    # With a 17-character VIN for a plate, a 2011 body is as long as a 2013 one: both readings.
    vin = body[: 4 + 5 + 8 + 7 + 1] + b"LGRIDVIN000000017"  # province, city, maker, model, id, colour
    assert tid in [r.terminal_id for r in messages.registration_readings(vin, False)]

    async def scenario():
        service = await service_factory()
        term = terminal(phone, service.jt808.port)
        await term.connect()
        result, code = await term.send(frames.REGISTER, body)
        authenticated = await term.authenticate(code)
        await term.close()
        await service.stop()
        return result, authenticated

    assert run_async(scenario()) == (frames.REG_OK, frames.RESULT_OK)


def test_a_time_that_is_not_bcd_spoils_only_its_frame():
    body = bytearray(messages.location_body(*TANGGU, dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)))
    assert messages.parse_location(bytes(body)).time == dt.datetime(2026, 11, 30, 8, 0, 5, tzinfo=dt.UTC)
    body[22] = 0x2A  # year "2A"
    with pytest.raises(frames.FrameError) as err:
        messages.parse_location(bytes(body))
    assert err.value.reason == "bad_time"
    body[22], body[24] = 0x26, 0x32  # day 32
    with pytest.raises(frames.FrameError):
        messages.parse_location(bytes(body))


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
                    s.sendall(frames.encode(frames.HEARTBEAT, "13800000001", 1))
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
    assert frames.decode(answer[1:-1]).header.msg_id == frames.PLATFORM_RESPONSE
    assert log.read_text().count("out of file descriptors") == 1  # not once per retry
