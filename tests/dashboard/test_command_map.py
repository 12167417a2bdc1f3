"""The command map in Debian's Chromium, as an operator uses it. Screenshots of each step
go to test-artifacts/."""

import datetime as dt
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from tests.conftest import SEED_TARGETS
from tests.webutil import PATIENCE_S, jt808_report, phone_client, run_async

pytestmark = pytest.mark.browser


# The screens' sizes the command centre uses; tests of the map's own layout run at both
# (parametrize "page" indirectly), the rest at one.
SIZES = pytest.mark.parametrize("page", [(1366, 768), (1600, 1000)], indirect=True, ids=lambda v: f"{v[0]}x{v[1]}")


def settled(locator, timeout_s: float = PATIENCE_S) -> None:
    """Wait until the element stops moving (the map finished flying)."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        box = locator.bounding_box()
        if box is not None and box == last:
            return
        last = box
        time.sleep(0.3)
    raise AssertionError("the map did not settle")


def cell_total(response) -> int:
    return sum(f["properties"]["n"] for f in json.loads(response.body())["features"])


def test_map_shows_townships_and_targets_and_a_domain_filter_narrows_them(page, engine, artifacts):
    assert page.locator("#township-layer path, .leaflet-overlay-pane path").count() >= 26
    with page.expect_response(lambda r: "/api/targets/map" in r.url and "domain=" in r.url) as info:
        page.click("#f-domain")
        page.get_by_role("option", name="卫生健康").click()
    response = info.value
    assert parse_qs(urlsplit(response.url).query)["domain"] == ["health"]
    with engine.connect() as c:
        health = c.execute(text("SELECT count(*) FROM target WHERE 'health' = ANY(domains)")).scalar()
    assert 0 < cell_total(response) == health < SEED_TARGETS
    # The bubbles on the map now add up to the health targets only.
    page.wait_for_function(
        f"""() => Array.from(document.querySelectorAll('.lg-cell div'))
        .map(d => d.textContent).reduce((s, t) => s + (t.endsWith('k') ? 0 : Number(t)), 0) === {health}""",
    )
    page.screenshot(path=str(artifacts / "map-domain-filter.png"))


@SIZES
def test_search_finds_a_target_and_its_card_opens(page, engine, artifacts):
    with engine.connect() as c:
        code, name = c.execute(
            text("SELECT credit_code, name FROM target WHERE credit_code IS NOT NULL ORDER BY id LIMIT 1")
        ).one()
    with page.expect_response(lambda r: "q=" in r.url):
        page.fill("#f-q", code)
        page.press("#f-q", "Enter")
    # The map flies to the one target found and draws it alone.
    page.wait_for_selector(".lg-cell", state="detached")
    dot = page.locator("path.lg-target")
    page.wait_for_function("() => document.querySelectorAll('path.lg-target').length === 1")
    settled(dot)  # the fly-to animation (slower on a busy machine)
    dot.click(force=True)  # Leaflet re-projects SVG paths on every frame while the map settles
    page.wait_for_selector("#target-card-name")
    assert page.inner_text("#target-card-name") == name
    assert code in page.inner_text("#target-card")
    # The card opens over the map, beside the dot clicked, inside the map.
    card, spot, area = (
        page.locator(s).bounding_box() for s in ("#target-card-float", "path.lg-target", "#overview-map")
    )
    assert area["x"] <= card["x"] and card["x"] + card["width"] <= area["x"] + area["width"] + 1
    assert area["y"] <= card["y"] and card["y"] + card["height"] <= area["y"] + area["height"] + 1
    gap = min(abs(card["x"] - (spot["x"] + spot["width"])), abs(spot["x"] - (card["x"] + card["width"])))
    assert gap < 40 and card["y"] <= spot["y"] <= card["y"] + card["height"]
    page.screenshot(path=str(artifacts / "map-target-card.png"))
    # From the card, the operator raises an inspection (a double click makes one) and follows
    # it to the dispatcher page.
    page.dblclick("#card-create")
    page.wait_for_selector("#card-task-link")
    task_id = int(re.search(r"\d+", page.inner_text("#card-task-link")).group())
    with engine.connect() as c:
        made = c.execute(
            text(
                "SELECT count(*) FROM inspection WHERE request_key = (SELECT request_key FROM inspection WHERE id = :i)"
            ),
            {"i": task_id},
        ).scalar()
    assert made == 1
    try:
        page.click("#card-task-link")
        page.wait_for_selector("#candidates-heading")
        assert page.inner_text("#candidates-heading") == f"#{task_id} {name}"
        page.wait_for_selector(f"#queue button:has-text('#{task_id} ')")  # the queue loads on its own
        assert page.locator(f"#queue button:has-text('#{task_id} ')").count() == 1
        page.screenshot(path=str(artifacts / "dispatch-from-card.png"))
    finally:
        with engine.begin() as c:
            c.execute(text("UPDATE inspection SET status = 'cancelled' WHERE id = :i"), {"i": task_id})


def test_english_switch_translates_the_map(page, artifacts):
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#overview-heading').textContent.includes('township')")
    # Each part translates in its own callback: wait for each rather than read at once.
    page.wait_for_function("() => document.querySelector('#nav-map').textContent === 'Command map'")
    page.wait_for_function("() => document.querySelector('#alarms-heading').textContent.startsWith('Alarms')")
    page.wait_for_function("() => document.querySelector('.lg-filterbar').textContent.includes('Domains')")
    assert "Domains" in page.inner_text(".lg-filterbar")
    page.screenshot(path=str(artifacts / "map-english.png"))
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#overview-heading').textContent.includes('街镇')")


def test_an_sos_appears_in_the_panel_and_is_acknowledged(page, live_app, engine, users, artifacts):
    with engine.begin() as c:
        dev_id, phone, officer = c.execute(
            text(
                "SELECT d.id, d.identifier, o.name FROM device d JOIN officer o ON o.id = d.officer_id "
                "WHERE d.protocol = 'jt808' ORDER BY d.id LIMIT 1 OFFSET 7"
            )
        ).one()
        c.execute(text("UPDATE alarm SET status = 'resolved' WHERE status <> 'resolved'"))
    page.reload()
    page.wait_for_selector(".lg-cell")
    page.wait_for_selector("body[data-live-socket=connected]", state="attached")

    jt808_report(live_app["jt808"], phone, 39.05, 117.70, alarm=1)
    page.wait_for_selector(f".lg-alarm:has-text('{officer}')")
    assert page.is_visible("#alarm-banner")
    assert "SOS" in page.inner_text("#alarm-banner")
    page.screenshot(path=str(artifacts / "map-sos.png"))
    # The alarm heat map of the last 24 hours has a cell where the SOS came from.
    page.click("#f-heat")
    page.get_by_role("option", name="告警热力：24小时").click()
    page.wait_for_selector("path.lg-heat")
    page.fill("#alarm-comment", "已电话联系，正在前往")
    page.locator(f".lg-alarm:has-text('{officer}') button", has_text="确认").click()
    page.wait_for_selector(f".lg-alarm.acknowledged:has-text('{officer}')")
    with engine.connect() as c:
        status, by, comment = c.execute(
            text(
                "SELECT status, acked_by, ack_comment FROM alarm WHERE device_id = :d AND kind = 'sos' "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"d": dev_id},
        ).one()
        audited = c.execute(
            text("SELECT count(*) FROM audit_log WHERE actor = :u AND action = 'alarm_ack'"), {"u": users["operator"]}
        ).scalar()
    assert (status, by, comment) == ("acknowledged", users["operator"], "已电话联系，正在前往")
    assert audited >= 1
    # Clicking the alarm centres the map on it.
    assert "km" in page.inner_text(".leaflet-control-scale")
    page.locator(f".lg-alarm:has-text('{officer}') b").click()
    page.wait_for_function("""() => !document.querySelector('.leaflet-control-scale').innerText.includes('km')""")
    page.screenshot(path=str(artifacts / "map-sos-acknowledged.png"))


def test_track_replay_plays_with_its_stop(page, live_app, engine, artifacts):
    with engine.begin() as c:
        dev_id, ident, officer = c.execute(
            text(
                "SELECT d.id, d.identifier, o.name FROM device d JOIN officer o ON o.id = d.officer_id "
                "WHERE d.protocol = 'osmand' ORDER BY d.id DESC LIMIT 1"
            )
        ).one()
        c.execute(text("DELETE FROM position WHERE device_id = :d"), {"d": dev_id})
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=40)
    # Walk east, stand still for six minutes, walk on: 24 fixes, one stop.
    walk = [(start + dt.timedelta(seconds=30 * k), 39.02, 117.60 + 0.0008 * k) for k in range(8)]
    walk += [(start + dt.timedelta(seconds=240 + 30 * k), 39.02, 117.6064) for k in range(1, 13)]
    walk += [(start + dt.timedelta(seconds=600 + 30 * k), 39.02, 117.6064 + 0.0008 * k) for k in range(1, 5)]

    async def send():
        phone = phone_client(ident, live_app["osmand"])
        for when, lat, lon in walk:
            assert (await phone.position(lat, lon, when))[0] == 200
        await phone.close()

    run_async(send())
    page.click("#nav-devices")
    page.wait_for_selector("#replay-device")
    page.click("#replay-device")
    page.get_by_placeholder("搜索").fill(ident)  # the dropdown's search box
    page.get_by_role("option", name=ident).click()
    page.click("#replay-load")
    page.wait_for_function("() => document.querySelector('#replay-summary').textContent.includes('24 个定位点')")
    assert "1 个停留点" in page.inner_text("#replay-summary")
    first = page.inner_text("#replay-time") or ""
    page.click("#replay-play")
    page.wait_for_function(f"() => document.querySelector('#replay-time').textContent !== {json.dumps(first)}")
    page.wait_for_function("() => document.querySelector('#replay-play').textContent === '暂停'")  # while playing
    page.click("#replay-play")  # pause
    page.wait_for_function("() => !document.querySelector('#replay-play').className.includes('playing')")
    assert page.inner_text("#replay-play") == "播放"
    # A tick already under way may still land: the clock is paused once two reads a tick apart agree.
    page.wait_for_function(
        """() => new Promise(done => { const read = () => document.querySelector('#replay-time').textContent;
            const a = read(); setTimeout(() => done(read() === a), 300); })""",
    )
    paused_at = page.inner_text("#replay-time")
    # Nothing may happen now: three ticks of the 250 ms replay clock pass without a change.
    page.wait_for_function(
        f"""() => new Promise(done => setTimeout(() =>
            done(document.querySelector('#replay-time').textContent === {json.dumps(paused_at)}), 750))""",
    )
    page.screenshot(path=str(artifacts / "track-replay.png"))
    with engine.connect() as c:
        assert (
            c.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'track_view' AND subject = :s "
                    "AND detail->>'via' = 'replay'"
                ),
                {"s": f"device:{dev_id}"},
            ).scalar()
            >= 1
        )
