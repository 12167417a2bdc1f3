"""Device identity that is secret (issue 33, item 3): a seeded JT/T 808 terminal's 终端ID is random,
so a registration naming the last digits of its number is refused and its forged SOS is not
stored; one authenticated connection per terminal (a new one closes the old); an OsmAnd device
needs its key, and the answer never tells an unknown id from a known one; key-less devices are
accepted only where configured; `lawgrid import devices` makes the keys a file lacks."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat

from sqlalchemy import text

from geo.infra import db
from ingest.devices import Jt808Terminal, OsmAndPhone
from ingest.jt808 import frames, messages
from ingest.registry import devices
from tests.webutil import credentials, run_async, terminal

TANGGU = (39.02, 117.65)


def seeded(engine, protocol: str, nth: int) -> tuple[int, str]:
    with engine.connect() as c:
        row = c.execute(
            text("SELECT id, identifier FROM device WHERE protocol = :p ORDER BY id OFFSET :n LIMIT 1"),
            {"p": protocol, "n": nth},
        ).one()
    return int(row[0]), str(row[1])


def open_alarms(engine, device_id: int) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT count(*) FROM alarm WHERE device_id = :d AND status = 'open'"), {"d": device_id}
        ).scalar_one()


def test_a_registration_guessing_the_terminal_id_and_its_sos_are_refused(engine, service_factory):
    device_id, phone = seeded(engine, "jt808", 40)
    with engine.begin() as c:
        c.execute(text("DELETE FROM alarm WHERE device_id = :d"), {"d": device_id})
    assert credentials("jt808", phone) != phone[-7:]  # the seed's 终端ID is random, not the number's tail

    async def scenario():
        service = await service_factory()
        forger = Jt808Terminal(phone, "127.0.0.1", service.jt808.port, terminal_id=phone[-7:])
        await forger.connect()
        result, _ = await forger.send(frames.REGISTER, messages.registration_body(phone[-7:]))
        sos = await forger.location(*TANGGU, alarm=1)  # not authenticated: refused, not stored
        await forger.close()
        stats = service.stats()
        await service.stop()
        return result, sos, stats

    result, sos, stats = run_async(scenario())
    assert result == frames.REG_NO_TERMINAL and sos == frames.RESULT_FAILURE
    assert stats["refused:jt808:registration_mismatch"] == 1 and stats["refused:jt808:unauthenticated"] == 1
    assert open_alarms(engine, device_id) == 0


def test_a_second_connection_with_the_code_closes_the_first(engine, service_factory):
    device_id, phone = seeded(engine, "jt808", 41)

    async def scenario():
        service = await service_factory()
        first = terminal(phone, service.jt808.port)
        await first.connect()
        await first.login()
        second = terminal(phone, service.jt808.port)
        await second.connect()
        assert await second.authenticate(first.auth_code) == frames.RESULT_OK
        closed = await asyncio.wait_for(first.reader.read(), 10) == b""  # the first line is closed
        stored = await second.location(*TANGGU, when=dt.datetime.now(dt.UTC).replace(microsecond=0))
        await second.close()
        stats = service.stats()
        await service.stop()
        return closed, stored, stats

    closed, stored, stats = run_async(scenario())
    assert closed and stored == frames.RESULT_OK and stats["jt808:replaced"] == 1


def test_osmand_answers_unknown_and_unauthorised_alike_and_keyless_only_when_configured(engine, service_factory):
    _, ident = seeded(engine, "osmand", 40)
    with engine.begin() as c:
        keyless = c.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier) VALUES ('terminal', 'osmand', 'keyless-1') "
                "ON CONFLICT (protocol, identifier) DO UPDATE SET device_key = NULL RETURNING id"
            )
        ).scalar_one()

    async def scenario(**config):
        service = await service_factory(**config)
        port = service.osmand.port
        answers = [
            await OsmAndPhone(ident, "127.0.0.1", port).position(*TANGGU),  # known, without its key
            await OsmAndPhone("nobody-at-all", "127.0.0.1", port).position(*TANGGU),  # unknown
            await OsmAndPhone(ident, "127.0.0.1", port, key="not-its-key-123").position(*TANGGU),
            await OsmAndPhone("keyless-1", "127.0.0.1", port).position(*TANGGU),
            await OsmAndPhone(ident, "127.0.0.1", port, key=credentials("osmand", ident)).position(*TANGGU),
        ]
        await service.stop()
        return answers

    try:
        known, unknown, wrong, no_key, right = run_async(scenario())
        assert known == unknown == wrong == no_key  # one answer: nothing to enumerate
        assert known[0] == 403 and right[0] == 200
        assert run_async(scenario(osmand_keyless=True))[3][0] == 200  # a closed network, configured so
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM position WHERE device_id = :d"), {"d": keyless})
            c.execute(text("DELETE FROM device_state WHERE device_id = :d"), {"d": keyless})
            c.execute(text("DELETE FROM device WHERE id = :d"), {"d": keyless})


def test_importing_devices_makes_the_keys_a_file_lacks(engine, tmp_path):
    csv = tmp_path / "phones.csv"
    csv.write_text(
        "kind,protocol,identifier,device_key\n"
        "terminal,osmand,import-key-1,\n"
        "terminal,osmand,import-key-2,Given-key-2026\n",
        encoding="utf-8",
    )
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as s:
            report = devices.import_devices(s, csv)
        assert report.loaded == 2 and [ident for ident, _ in report.generated] == ["import-key-1"]
        assert report.keys_file is not None and "keys made" in report.summary()
        assert stat.S_IMODE(os.stat(report.keys_file).st_mode) == 0o600  # a secret: its owner's only
        made = report.keys_file.read_text().splitlines()[1].split(",")
        assert credentials("osmand", "import-key-1") == made[1] and credentials("osmand", "import-key-2") == (
            "Given-key-2026"
        )
        assert "Given-key-2026" not in str(report.as_dict()) and made[1] not in str(report.as_dict())
        with db.session_scope(db.make_sessionmaker(engine)) as s:
            again = devices.import_devices(s, csv)
        assert again.generated == [] and credentials("osmand", "import-key-1") == made[1]  # kept, not remade
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM device WHERE identifier LIKE 'import-key-%'"))
