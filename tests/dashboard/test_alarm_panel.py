"""The operator's alarm panel under a flood (Chromium, real JT/T 808 frames, real PostGIS):
150 other alarms open, every SOS still on top and on screen; repeats grouped; the banner
above the map, dismissible until the next SOS; acknowledging acts on the clicked alarm
while new ones arrive; resolving asks for its comment; the SOS marker stays red."""

import datetime as dt

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.webutil import browser_login, jt808_report, wait_for

VIEWPORTS = [(1366, 768), (1600, 1000)]
OTHER_KINDS = ("recording_stopped", "low_battery", "storage_full", "overspeed", "offline")
SOS_RED = [214, 40, 40]
# The live canvas's colours within 3 px of a device's position.
DOT_PIXELS = """(id) => {
    const lg = window.lawgrid, d = lg.live.get(id), ratio = window.devicePixelRatio || 1;
    lg.dots.draw();
    const p = lg.map.latLngToContainerPoint([d.lat, d.lon]), ctx = lg.dots._canvas.getContext("2d");
    const data = ctx.getImageData(Math.round((p.x - 3) * ratio), Math.round((p.y - 3) * ratio), 7, 7).data;
    const out = [];
    for (let i = 0; i < data.length; i += 4) { out.push([data[i], data[i + 1], data[i + 2]]); }
    return out;
}"""


@pytest.fixture
def flood(engine):
    """150 open alarms of other kinds on 150 devices, one older SOS, and three JT/T 808
    terminals (with their officers) to raise SOS from; every live alarm resolved after."""
    with engine.begin() as c:
        c.execute(text("UPDATE alarm SET status = 'resolved' WHERE status <> 'resolved'"))
        terminals = c.execute(
            text(
                "SELECT d.id, d.identifier, o.name FROM device d JOIN officer o ON o.id = d.officer_id "
                "WHERE d.protocol = 'jt808' ORDER BY d.id LIMIT 3 OFFSET 20"
            )
        ).all()
        others = c.execute(
            text(
                "SELECT d.id, d.officer_id FROM device d WHERE d.officer_id IS NOT NULL AND d.id <> ALL(:t) "
                "ORDER BY d.id LIMIT 151"
            ),
            {"t": [r[0] for r in terminals]},
        ).all()
        now = dt.datetime.now(dt.UTC)
        for k, (device_id, officer_id) in enumerate(others[:150]):
            c.execute(
                text(
                    "INSERT INTO alarm (device_id, officer_id, kind, at, geom) "
                    "VALUES (:d, :o, :k, :at, ST_SetSRID(ST_MakePoint(117.6 + :k2 * 0.001, 39.0), 4326))"
                ),
                {
                    "d": device_id,
                    "o": officer_id,
                    "k": OTHER_KINDS[k % 5],
                    "at": now - dt.timedelta(minutes=k),
                    "k2": k,
                },
            )
        old_sos_device, old_sos_officer = others[150]
        c.execute(
            text(
                "INSERT INTO alarm (device_id, officer_id, kind, at, geom) "
                "VALUES (:d, :o, 'sos', :at, ST_SetSRID(ST_MakePoint(117.65, 39.03), 4326))"
            ),
            {"d": old_sos_device, "o": old_sos_officer, "at": now - dt.timedelta(hours=3)},
        )
    yield terminals
    with engine.begin() as c:
        c.execute(text("UPDATE alarm SET status = 'resolved' WHERE status <> 'resolved'"))


def open_sos_ids(engine) -> list[int]:
    with engine.connect() as c:
        return list(
            c.execute(text("SELECT id FROM alarm WHERE kind = 'sos' AND status = 'open' ORDER BY id")).scalars()
        )


def on_screen(page, selector: str, viewport: tuple[int, int]) -> bool:
    """The element is inside the window and inside the visible part of the alarm list."""
    box = page.locator(selector).bounding_box()
    lst = page.locator("#alarm-list").bounding_box()
    if not box or not lst:
        return False
    return box["y"] >= lst["y"] - 1 and box["y"] + box["height"] <= min(lst["y"] + lst["height"], viewport[1]) + 1


def overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_sos_stays_on_top_and_acts_on_its_own_alarm(browser, live_app, users, engine, flood, artifacts, viewport):
    (dev_a, phone_a, officer_a), (dev_b, phone_b, officer_b), (dev_c, phone_c, officer_c) = flood
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        browser_login(page, live_app["url"], users["operator"], PASSWORD)
        page.wait_for_selector(".lg-alarm")
        page.wait_for_selector("body[data-live-socket=connected]", state="attached")

        # Two SOS reports from terminal A: one row, counted twice.
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        jt808_report(live_app["jt808"], phone_a, 39.041, 117.661, alarm=1, when=now - dt.timedelta(seconds=20))
        page.wait_for_selector(f".lg-alarm.kind-sos:has-text('{officer_a}')")
        jt808_report(live_app["jt808"], phone_a, 39.041, 117.661, alarm=1, when=now - dt.timedelta(seconds=10))
        row_a = page.locator(f".lg-alarm.kind-sos:has-text('{officer_a}')")
        wait_for(lambda: "报告 2 次" in row_a.inner_text(), what="the repeat counted on A's row")
        assert page.locator(f".lg-alarm.kind-sos:has-text('{officer_a}')").count() == 1

        # Every open SOS is listed before any other alarm and is on screen, under 150 others.
        sos_ids = open_sos_ids(engine)
        assert len(sos_ids) == 2
        order = page.eval_on_selector_all(".lg-alarm", "rows => rows.map(r => r.dataset.kind)")
        assert order[: len(sos_ids)] == ["sos"] * len(sos_ids) and "sos" not in order[len(sos_ids) :]
        for alarm_id in sos_ids:
            assert on_screen(page, f".lg-alarm[data-alarm-id='{alarm_id}']", viewport), alarm_id
        # The counts name every kind; the list scrolls inside its panel.
        counts = page.inner_text("#alarm-counts")
        assert "一键求助 SOS 2" in counts and "记录仪停止录像 30" in counts
        lst = page.eval_on_selector("#alarm-list", "e => [e.scrollHeight, e.clientHeight]")
        assert lst[0] > lst[1] and lst[1] <= viewport[1] * 0.4 + 1

        # The banner names the officer and his unit, and covers no control.
        banner = page.locator("#alarm-banner")
        wait_for(banner.is_visible, what="the banner")
        assert "SOS" in banner.inner_text() and officer_a in banner.inner_text()
        for control in (".lg-filterbar", ".leaflet-control-zoom", "#f-risk"):
            assert not overlaps(banner.bounding_box(), page.locator(control).bounding_box()), control
        page.screenshot(path=str(artifacts / f"alarms-flood-{viewport[0]}x{viewport[1]}.png"))

        # Dismissed, it stays away for other alarms and comes back for a new SOS (from B).
        page.click("#alarm-dismiss")
        page.wait_for_selector("#alarm-banner", state="hidden")
        jt808_report(live_app["jt808"], phone_b, 38.7312, 117.5261, alarm=1)
        page.wait_for_selector(f"#alarm-banner:has-text('{officer_b}')")
        page.wait_for_selector(f".lg-alarm.kind-sos:has-text('{officer_b}')")

        # With the pointer on A's row, C's SOS arrives: the rows hold still, and 确认 acts on A.
        row_a = page.locator(f".lg-alarm.kind-sos:has-text('{officer_a}')")
        row_a.hover()
        seen = page.evaluate("window.lawgrid.alarmsSeen")
        jt808_report(live_app["jt808"], phone_c, 39.02, 117.63, alarm=1)
        page.wait_for_function(f"() => window.lawgrid.alarmsSeen > {seen}")
        assert page.locator(f".lg-alarm.kind-sos:has-text('{officer_c}')").count() == 0  # held while pointed at
        row_a.locator("button", has_text="确认").click()
        page.wait_for_selector(f".lg-alarm.kind-sos.acknowledged:has-text('{officer_a}')")
        with engine.connect() as c:
            states = dict(
                c.execute(text("SELECT device_id, status FROM alarm WHERE kind = 'sos' AND status <> 'resolved'")).all()
            )
        assert states[dev_a] == "acknowledged" and states[dev_b] == "open" and states[dev_c] == "open"
        page.mouse.move(5, viewport[1] - 5)
        page.wait_for_selector(f".lg-alarm.kind-sos:has-text('{officer_c}')")

        # Resolving asks for its comment first.
        row_a.locator("button", has_text="解除").click()
        row_a.locator("button", has_text="确认解除").click()
        page.wait_for_selector("#alarm-message:has-text('解除告警须填写处理意见')")
        row_a.locator("input").fill("误触，已电话核实")
        row_a.locator("button", has_text="确认解除").click()
        page.wait_for_selector(f".lg-alarm.kind-sos:has-text('{officer_a}')", state="detached")
        with engine.connect() as c:
            status, comment = c.execute(
                text(
                    "SELECT status, resolve_comment FROM alarm WHERE device_id = :d AND kind = 'sos' "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"d": dev_a},
            ).one()
        assert (status, comment) == ("resolved", "误触，已电话核实")

        # B's ordinary fix (no SOS flag) does not turn his marker normal while his SOS is open.
        jt808_report(live_app["jt808"], phone_b, 38.7312, 117.5261)
        page.wait_for_function(
            f"() => window.lawgrid.live.get({dev_b}) && window.lawgrid.live.get({dev_b}).sos === false"
        )
        # His dot is SOS red (read around its centre: another SOS dot's white outline may cross it).
        colours = page.evaluate(DOT_PIXELS, dev_b)
        assert SOS_RED in colours, colours[:5]
    finally:
        page.close()
