"""The command map's layers in Chromium: a GCJ-02 base map shifted onto WGS-84 on every page,
townships coloured by coverage and inspections as heat, the legend and the officer finder, Dash's
own texts in the page's language, and a crowded viewport that asks to zoom in."""

import datetime as dt
import json
import math
import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD
from tests.dashboard.test_command_map import SIZES
from tests.webutil import browser_login, jt808_report

pytestmark = pytest.mark.browser


MAPS = {"/": "overview-map", "/dispatch": "dispatch-map", "/coverage": "cov-map", "/devices": "replay-map"}


def test_a_gcj02_base_map_is_shifted_onto_wgs84_on_every_page(browser, runtime, users, artifacts):
    """A local tile server in GCJ-02 (no request leaves the machine): on every page with a map
    the tile pane moves by the GCJ-02 offset at the view's centre, about 540 m west and 100 m
    south here, and the attribution names the tiles."""
    import threading

    from werkzeug.serving import make_server

    from geo.places.gcj02 import wgs84_to_gcj02
    from lawgrid.app import create_app
    from lawgrid.runtime import Runtime
    from lawgrid.settings import Settings

    settings = Settings(
        database_url=runtime.url,
        secret_key="gcj",
        tile_crs="gcj02",
        tile_url="/no-tiles/{z}/{x}/{y}.png",
        tile_attribution="本地瓦片",
    )
    app = create_app(settings, Runtime(settings, runtime.url, runtime.engine, runtime.sessions))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    try:
        browser_login(page, base, users["operator"], PASSWORD)
        for path, map_id in MAPS.items():
            page.goto(base + path)
            page.wait_for_selector(f"#{map_id} .lg-gcj02", state="attached")
            page.wait_for_function(
                f"() => {{ const m = (window.lawgrid.maps || {{}})[{map_id!r}];"
                f" return m && m.getPane('tilePane').style.marginLeft; }}"
            )
            zoom, lat, lon, dx, dy = page.evaluate(f"""() => {{ const m = window.lawgrid.maps[{map_id!r}],
                c = m.getCenter(), p = m.getPane('tilePane'); return [m.getZoom(), c.lat, c.lng,
                parseFloat(p.style.marginLeft), parseFloat(p.style.marginTop)]; }}""")
            glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
            metres_per_px = 156_543.03 * math.cos(math.radians(lat)) / 2**zoom
            east_m = (glon - lon) * 111_320 * math.cos(math.radians(lat))
            north_m = (glat - lat) * 110_574
            assert dx == pytest.approx(-east_m / metres_per_px, abs=0.6), path
            assert dy == pytest.approx(north_m / metres_per_px, abs=0.6), path
            assert "本地瓦片" in page.inner_text(f"#{map_id} .leaflet-control-attribution"), path
    finally:
        page.close()
        server.shutdown()


def test_townships_switch_to_coverage_and_inspections_show_as_heat(page, engine, inspection_history, artifacts):
    from dashboard.coverage_view import today
    from geo.coverage import counts, model

    page.get_by_label("按本月覆盖率着色").check()
    page.wait_for_function("() => document.querySelector('#township-legend-title').innerText === '按本月覆盖率着色'")
    page.wait_for_function("() => document.querySelector('#township-chart .gtitle').textContent.includes('覆盖率')")
    window = model.parse_window(None, None, "month", today())
    with Session(engine) as s:
        expected = {code: n / d * 100 for code, (n, d) in counts.brute_force(s, "township", window).items() if n}
        names = dict(s.execute(text("SELECT name, code FROM township")).all())
    plotted = page.evaluate(
        "() => { const d = document.querySelector('#township-chart .js-plotly-plot').data[0];"
        " return d.y.map((name, i) => [name, d.x[i]]); }"
    )
    shown = {names[name]: x for name, x in plotted if x}
    assert shown.keys() == expected.keys()
    assert all(abs(shown[code] - expected[code]) < 1e-3 for code in expected)
    page.screenshot(path=str(artifacts / "map-coverage-choropleth.png"))

    page.click("#f-heat")
    page.get_by_role("option", name="检查热力：30天").click()
    with engine.connect() as c:
        cells = c.execute(
            text(
                "SELECT count(DISTINCT (floor(ST_X(t.geom) / 0.01), floor(ST_Y(t.geom) / 0.01))) FROM inspection i "
                "JOIN target t ON t.id = i.target_id WHERE i.status = 'completed' "
                "AND (timezone('Asia/Shanghai', i.completed_at))::date >= :d"
            ),
            {"d": today() - dt.timedelta(days=30)},
        ).scalar_one()
    assert cells > 0
    page.wait_for_function(f"() => document.querySelectorAll('path.lg-heat').length === {cells}")
    page.screenshot(path=str(artifacts / "map-inspection-heat.png"))


@SIZES
def test_the_map_explains_itself_and_finds_an_officer(page, live_app, engine, artifacts):
    with engine.connect() as c:
        dev_id, phone, officer, unit, kind = c.execute(
            text(
                "SELECT d.id, d.identifier, o.name, u.name, d.kind FROM device d JOIN officer o ON o.id = d.officer_id "
                "JOIN enforcement_unit u ON u.id = o.unit_id WHERE d.protocol = 'jt808' ORDER BY d.id LIMIT 1 OFFSET 30"
            )
        ).one()
        domains = list(c.execute(text("SELECT zh FROM domain ORDER BY key")).scalars())
    # A legend for every layer (one click open): the target domains and every state of the live layer.
    page.click("#map-legend summary")
    legend = page.inner_text("#map-legend")
    assert all(d in legend for d in domains)
    assert all(s in legend for s in ("在线", "执行任务", "信号延迟", "离线", "SOS", "其他告警未解除", "未录像"))
    jt808_report(live_app["jt808"], phone, 39.06, 117.71)
    page.wait_for_function(f"() => window.lawgrid.live.has({dev_id})")
    # Found by name: the map flies to him and names him, his unit, device and state.
    page.fill("#live-find", officer)
    page.press("#live-find", "Enter")
    page.wait_for_function("(n) => document.querySelector('#live-selected').textContent.startsWith(n)", arg=officer)
    selected = page.inner_text("#live-selected")
    kind_zh = {"terminal": "执法终端", "body_camera": "执法记录仪"}[kind]
    assert unit in selected and f"{kind_zh} {phone}" in selected and "在线" in selected
    assert re.search(r"最后定位 \d+ 秒前", selected), selected
    first = selected
    page.wait_for_function(  # the "n s ago" keeps counting
        "(t) => document.querySelector('#live-selected').textContent !== t", arg=first
    )
    page.wait_for_function(
        """() => !document.querySelector('.leaflet-control-scale').innerText.includes('km')"""
    )  # flown in close
    page.screenshot(path=str(artifacts / f"map-find-officer-{page.viewport_size['width']}.png"))
    # By device number too; and a name nobody has says so.
    page.fill("#live-find", "无此人员XYZ")
    page.press("#live-find", "Enter")
    page.wait_for_selector("#live-find-result:has-text('未找到')")


def test_dash_component_texts_speak_the_page_language(page):
    page.click("#f-township")
    page.wait_for_selector(".dash-dropdown-search[placeholder='搜索'], input[placeholder='搜索']")
    assert page.get_by_text("全选").count() >= 1
    page.keyboard.press("Escape")
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#nav-map').textContent === 'Command map'")
    page.click("#f-township")
    page.wait_for_selector("input[placeholder='Search']")
    assert page.get_by_text("Select All").count() >= 1
    page.keyboard.press("Escape")
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#nav-map').textContent === '指挥地图'")


@pytest.fixture
def crowded_block(engine):
    """One more than the map's point cap of targets packed into a single city block."""
    from geo.places.target_map import POINT_LIMIT

    lon, lat = 117.7010, 39.0420
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO target (key, credit_code, name, kind, domains, risk_level, geom) "
                "SELECT 'test-crowd-' || g, NULL, '密集商户' || g, 'entity', ARRAY['market_regulation'], 1, "
                "ST_SetSRID(ST_MakePoint(:lon + (g % 80) * 0.00001, :lat + (g / 80) * 0.00001), 4326) "
                "FROM generate_series(1, :n) g"
            ),
            {"lon": lon, "lat": lat, "n": POINT_LIMIT + 1},
        )
    yield lon, lat, POINT_LIMIT
    with engine.begin() as c:
        c.execute(text("DELETE FROM target WHERE key LIKE 'test-crowd-%'"))


@SIZES
def test_a_crowded_viewport_asks_to_zoom_in(page, crowded_block, artifacts):
    lon, lat, cap = crowded_block
    note = page.locator("#targets-truncated")
    with page.expect_response(lambda r: "/api/targets/map" in r.url and "zoom=17" in r.url) as info:
        page.evaluate(f"() => window.lawgrid.map.setView([{lat + 0.0003}, {lon + 0.0004}], 17)")
    assert info.value.headers.get("x-lawgrid-truncated") == "true"
    assert len(json.loads(info.value.body())["features"]) == cap  # exactly the cap, no more
    page.wait_for_selector("#targets-truncated:has-text('请放大地图')")
    assert f"{cap:,}" in note.inner_text()
    page.screenshot(path=str(artifacts / f"map-truncated-{page.viewport_size['width']}.png"))
    # Back out to the district: cells again, and the note goes.
    page.evaluate("() => window.lawgrid.map.setZoom(11)")
    note.wait_for(state="hidden")
