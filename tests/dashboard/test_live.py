"""End to end: devices over real sockets -> pipeline -> PostGIS -> Socket.IO clients, and
the REST routes for devices, tracks, officers and alarms."""

import datetime as dt
import time

import pytest
import requests
import socketio
from sqlalchemy import text

from ingest.simulator import run_simulation
from tests.conftest import PASSWORD
from tests.webutil import browser_login, jt808_report, run_async, terminal, wait_for


def token(url, username):
    r = requests.post(url + "/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=5)
    return r.json()["access_token"]


def api(url, username, path, method="GET", **kw):
    return requests.request(
        method, url + path, headers={"Authorization": f"Bearer {token(url, username)}"}, timeout=10, **kw
    )


def listener(url, username):
    client = socketio.Client(reconnection=False)
    received = {"positions": [], "alarm": []}
    client.on("positions", lambda rows: received["positions"].append((time.monotonic(), rows)), namespace="/live")
    client.on("alarm", lambda a: received["alarm"].append(a), namespace="/live")
    client.connect(url, namespaces=["/live"], transports=["websocket"], auth={"token": token(url, username)})
    return client, received


def jt808_device(engine, in_unit: bool, nth: int = 0):
    """A JT/T 808 device in (or outside) unit U001; tests that report fixes take their own nth
    one, since a second fix of one device within the same second is dropped as a duplicate."""
    op = "=" if in_unit else "<>"
    with engine.connect() as c:
        return c.execute(
            text(
                f"""SELECT d.id, d.identifier FROM device d JOIN officer o ON o.id = d.officer_id
                JOIN enforcement_unit u ON u.id = o.unit_id
                WHERE d.protocol = 'jt808' AND u.code {op} 'U001' ORDER BY d.id DESC LIMIT 1 OFFSET {int(nth)}"""
            )
        ).one()


def test_anonymous_socket_is_refused(live_app):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_app["url"], namespaces=["/live"], transports=["websocket"])


def test_position_and_sos_reach_operators_and_only_the_right_unit(live_app, engine, users):
    url = live_app["url"]
    mine, theirs = jt808_device(engine, True), jt808_device(engine, False)
    with engine.begin() as c:  # start from no open alarm for these two, whatever ran before
        c.execute(text("DELETE FROM alarm WHERE device_id IN (:a, :b)"), {"a": mine[0], "b": theirs[0]})
    operator, seen_op = listener(url, users["operator"])
    dispatcher, seen_disp = listener(url, users["dispatcher"])

    async def devices():
        sent_at = {}
        for dev_id, phone in (mine, theirs):
            term = terminal(phone, live_app["jt808"])
            await term.connect()
            await term.login()
            sent_at[dev_id] = time.monotonic()
            assert await term.location(39.02, 117.65, alarm=1) == 0
            await term.close()
        return sent_at

    sent_at = run_async(devices())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (
        {r[0] for _, rows in seen_op["positions"] for r in rows} >= {mine[0], theirs[0]} and seen_disp["positions"]
    ):
        time.sleep(0.05)
    op_ids = {r[0]: t for t, rows in seen_op["positions"] for r in rows}
    assert mine[0] in op_ids and theirs[0] in op_ids
    assert op_ids[mine[0]] - sent_at[mine[0]] < 2.0  # pushed within two seconds
    disp_ids = {r[0] for _, rows in seen_disp["positions"] for r in rows}
    assert mine[0] in disp_ids and theirs[0] not in disp_ids  # unit scope holds on the socket
    wait_for(lambda: {a["device_id"] for a in seen_op["alarm"]} >= {mine[0], theirs[0]}, what="both SOS alarms")
    assert {a["device_id"] for a in seen_disp["alarm"]} == {mine[0]}
    operator.disconnect()
    dispatcher.disconnect()


def test_alarm_ack_and_resolve_over_rest(live_app, engine, users):
    url = live_app["url"]
    device_id, phone = jt808_device(engine, True, nth=1)
    with engine.begin() as c:  # this test's own SOS, whatever ran before
        c.execute(text("DELETE FROM alarm WHERE device_id = :d"), {"d": device_id})
    jt808_report(live_app["jt808"], phone, 39.02, 117.65, alarm=1)

    def open_sos():
        alarms = api(url, users["operator"], "/api/alarms").json()["alarms"]
        return next((a for a in alarms if a["kind"] == "sos" and a["device_id"] == device_id), None)

    sos = wait_for(open_sos, what="the SOS alarm")
    path = f"/api/alarms/{sos['id']}"
    assert api(url, users["leader"], path + "/ack", "POST", json={}).status_code == 403
    ok = api(url, users["operator"], path + "/ack", "POST", json={"comment": "已联系执法人员"})
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
    again = api(url, users["operator"], path + "/ack", "POST", json={})
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]
    assert api(url, users["operator"], path + "/resolve", "POST", json={}).status_code == 400
    done = api(url, users["operator"], path + "/resolve", "POST", json={"comment": "误触"})
    assert done.json()["status"] == "resolved" and done.json()["resolved_by"] == users["operator"]
    trail = api(url, users["auditor"], f"/api/audit?actor={users['operator']}").json()["entries"]
    assert {"alarm_ack", "alarm_resolve"} <= {e["action"] for e in trail}


def test_track_officers_and_devices_respect_scope(live_app, engine, users):
    url = live_app["url"]
    mine, theirs = jt808_device(engine, True, nth=2), jt808_device(engine, False)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    jt808_report(live_app["jt808"], mine[1], 39.02, 117.65)  # its own fix (acknowledged once stored)
    track = api(url, users["dispatcher"], f"/api/devices/{mine[0]}/track", params={"start": start})
    assert track.status_code == 200
    points = [f for f in track.json()["features"] if f["geometry"]["type"] == "Point"]
    assert [117.65, 39.02] in [p["geometry"]["coordinates"] for p in points]
    hidden = api(url, users["dispatcher"], f"/api/devices/{theirs[0]}/track")
    assert hidden.status_code == 404
    bad = api(url, users["dispatcher"], f"/api/devices/{mine[0]}/track", params={"start": "soon"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
    devices = api(url, users["dispatcher"], "/api/devices").json()["devices"]
    assert mine[0] in {d["id"] for d in devices} and theirs[0] not in {d["id"] for d in devices}
    officers = api(url, users["operator"], "/api/officers").json()["officers"]
    assert any(o["lat"] == 39.02 for o in officers)
    stats = api(url, users["operator"], "/api/ingest/stats").json()
    # this test's own terminal authenticated (others may have, in whatever order the tests ran)
    assert stats["running"] and stats["counters"]["jt808:authenticated"] >= 1


def test_simulator_feeds_a_running_server(live_app, runtime, engine):
    before = engine.connect().execute(text("SELECT count(*) FROM position")).scalar()
    summary = run_async(
        lambda: run_simulation(
            runtime.sessions,
            devices=20,
            rate=2,
            duration=3,
            protocol="mixed",
            host="127.0.0.1",
            jt808_port=live_app["jt808"],
            osmand_port=live_app["osmand"],
            progress=False,
        )
    )
    after = engine.connect().execute(text("SELECT count(*) FROM position")).scalar()
    assert summary["devices"] == 20 and summary["failed"] == 0
    assert summary["acked"] >= 40
    assert after - before == summary["acked"]  # everything acknowledged is stored


@pytest.mark.browser
def test_a_jt808_position_moves_its_marker_on_the_map(live_app, engine, users, browser, artifacts):
    url = live_app["url"]
    dev_id, phone = jt808_device(engine, True, nth=3)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        browser_login(page, url, users["operator"], PASSWORD)
        page.wait_for_selector(".lg-cell")
        page.wait_for_function("() => window.lawgrid && window.lawgrid.dots")
        page.wait_for_selector("body[data-live-socket=connected]", state="attached")

        t0 = time.monotonic()
        jt808_report(live_app["jt808"], phone, 39.111111, 117.555555)
        page.wait_for_function(
            f"() => {{ const d = window.lawgrid.live.get({dev_id});"
            f" return d && d.lat === 39.111111 && window.lawgrid.painted({dev_id}); }}",
        )
        moved_in = time.monotonic() - t0
        assert moved_in < 2.0
        # Click the marker to select it, turn on follow mode, move again: the trail grows
        # and the map keeps the officer in the centre.
        x, y = page.evaluate(f"""() => {{ const lg = window.lawgrid, d = lg.live.get({dev_id});
            lg.map.setView([d.lat, d.lon], 15, {{animate: false}});
            const p = lg.map.latLngToContainerPoint([d.lat, d.lon]);
            const r = lg.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }}""")
        page.mouse.click(x, y)
        page.wait_for_function(f"() => window.lawgrid.selected === {dev_id}")
        page.get_by_label("跟随选中人员").check()

        # JT/T 808 times have whole seconds (a fix in the same second is a duplicate): the next second
        jt808_report(live_app["jt808"], phone, 39.12, 117.57, when=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
        page.wait_for_function(f"() => window.lawgrid.live.get({dev_id}).lat === 39.12")
        assert page.evaluate("() => window.lawgrid.trailLine.getLatLngs().length") >= 2
        centre = page.evaluate("() => { const c = window.lawgrid.map.getCenter(); return [c.lat, c.lng]; }")
        assert abs(centre[0] - 39.12) < 1e-4 and abs(centre[1] - 117.57) < 1e-4
        page.screenshot(path=str(artifacts / "live-marker.png"))
    except Exception:
        page.screenshot(path=str(artifacts / "live-failure.png"))
        raise
    finally:
        page.close()


def test_a_socket_from_another_origin_is_refused(live_app):
    """A page on another origin (another port, a sibling subdomain) cannot open the live
    socket, whatever cookie its browser sends along; the site's own origin can."""
    import websocket

    ws_url = live_app["url"].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    for foreign in ("http://127.0.0.1:1", "http://evil.example"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(ws_url, origin=foreign, timeout=5)
        assert refused.value.status_code == 400
    own = websocket.create_connection(ws_url, origin=live_app["url"], timeout=5)
    assert own.recv().startswith("0{")  # the engine.io open packet
    own.close()


def test_the_first_positions_after_a_quiet_spell_go_at_once_then_are_coalesced(live_app, engine, users):
    from dashboard.live import LivePush
    from geo.telemetry.positions import WriteResult

    app = live_app["app"].server
    push = LivePush(app.extensions["socketio"], app.extensions["lawgrid"].sessions, interval_s=3.0)  # quiet so far
    push.start()
    device_id, _ = jt808_device(engine, True, nth=5)
    client, seen = listener(live_app["url"], users["operator"])

    def fix(lat):
        row = dict(device_id=device_id, lat=lat, lon=117.65, state="online", recording=None, alarms=[], fix_time=None)
        return WriteResult(stored=1, duplicates=0, latest=[row], alarms=[])

    def arrival(lat):
        for at, rows in seen["positions"]:
            if any(r[0] == device_id and r[1] == lat for r in rows):
                return at
        return None

    try:
        quiet_sent = time.monotonic()
        push.on_commit(fix(39.0101))
        first = wait_for(lambda: arrival(39.0101), what="the first position")
        assert first - quiet_sent < 2.0  # at once, not after the 3 s interval
        push.on_commit(fix(39.0102))  # right behind it: waits for the next batch
        second = wait_for(lambda: arrival(39.0102), what="the coalesced position")
        assert second - first >= 2.5  # one batch per interval at most
    finally:
        push.stop()
        client.disconnect()


def test_a_device_that_did_not_move_is_not_pushed_again(live_app, engine, users):
    """Only what the map would draw differently goes out: a device reporting the same
    position and state again is left out of the batch that carries another device's move."""
    from dashboard.live import LivePush
    from geo.telemetry.positions import WriteResult

    app = live_app["app"].server
    push = LivePush(app.extensions["socketio"], app.extensions["lawgrid"].sessions, interval_s=0.2)
    push.start()
    still, _ = jt808_device(engine, True, nth=5)
    moving, _ = jt808_device(engine, True, nth=6)
    client, seen = listener(live_app["url"], users["operator"])

    def fixes(*rows):
        latest = [
            dict(device_id=d, lat=lat, lon=117.65, state="online", recording=None, alarms=[], fix_time=None)
            for d, lat in rows
        ]
        return WriteResult(stored=len(latest), duplicates=0, latest=latest, alarms=[])

    def batches_with(device_id):
        return [rows for _at, rows in seen["positions"] if any(r[0] == device_id for r in rows)]

    try:
        push.on_commit(fixes((still, 39.0301), (moving, 39.0401)))
        wait_for(lambda: batches_with(moving), what="the first positions")
        push.on_commit(fixes((still, 39.0301), (moving, 39.0402)))  # one stood still, one moved
        wait_for(lambda: len(batches_with(moving)) == 2, what="the move")
        assert [r[1] for r in batches_with(moving)[1] if r[0] == moving] == [39.0402]
        assert len(batches_with(still)) == 1  # sent once, not again with the move
    finally:
        push.stop()
        client.disconnect()


def test_the_live_packets_binary_check_answers_as_socketios_own():
    from socketio.packet import Packet

    from dashboard.live import LivePacket

    batch = [[i, 39.0, 117.6, "moving", None, False, "2026-12-03T10:00:00+00:00"] for i in range(600)]
    cases = [
        ["positions", batch],
        ["positions", batch + [[1, b"\x00"]]],
        ["alarm", {"id": 1, "device_id": 2, "detail": {"photo": bytearray(b"jpg")}}],
        ["alarm", {"id": 1, "nested": [{"a": [1, 2, {"b": None}]}]}],
        [b"raw"],
        "text",
        7,
        None,
    ]
    for data in cases:
        assert LivePacket.data_is_binary(data) == Packet.data_is_binary(data), data
    assert LivePacket.data_is_binary(cases[1]) and not LivePacket.data_is_binary(cases[0])
