"""The first dashboard page and the REST routes, on a real server and in Chromium."""

import threading

import pytest
from werkzeug.serving import make_server

from lawgrid.app import create_app
from tests.conftest import PASSWORD, SEED_TARGETS
from tests.webutil import browser_login, login


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime.settings, runtime)


@pytest.fixture(scope="module")
def client(app, users):
    client = app.server.test_client()
    assert login(client, users["operator"], PASSWORD).status_code == 302
    return client


def test_health_reports_the_database(client):
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok"
    assert body["database"]["postgis"].startswith("3.")


def test_townships_are_geojson_with_target_counts(client):
    body = client.get("/api/townships").get_json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 26
    assert sum(f["properties"]["targets"] for f in body["features"]) == SEED_TARGETS
    assert all(f["properties"]["approximate"] for f in body["features"])
    ring = body["features"][0]["geometry"]["coordinates"][0][0]
    assert 117 < ring[0][0] < 119 and 38 < ring[0][1] < 40  # lon, lat order (RFC 7946)


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.fixture(scope="module")
def live_url(app):
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.browser
def test_map_page_draws_townships_offline_and_switches_language(browser, live_url, artifacts, users):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_url) else None)
    try:
        page.goto(live_url + "/")
        assert page.url.startswith(live_url + "/login")  # anonymous visitors are sent to log in
        page.screenshot(path=str(artifacts / "login.png"))
        browser_login(page, live_url, users["operator"], PASSWORD)
        page.wait_for_selector("#township-layer path.leaflet-interactive, .leaflet-overlay-pane path")
        # 26 township polygons (some townships are several pieces) plus the outline.
        assert page.locator(".leaflet-overlay-pane path").count() >= 27
        page.wait_for_selector("#township-chart .bars path")
        assert page.locator("#township-chart .bars path").count() == 26
        assert page.inner_text("#overview-heading") == "执法对象分布（按街镇）"
        assert page.inner_text("#card-targets .value") == f"{SEED_TARGETS:,}"
        assert "t-operator" in page.inner_text("#whoami")
        assert "近似" in page.inner_text(".leaflet-control-attribution")
        page.screenshot(path=str(artifacts / "overview-zh.png"))

        page.click("#lang-switch")
        page.wait_for_function(
            "() => document.querySelector('#overview-heading').innerText === 'Regulated targets by township'"
        )
        assert page.inner_text("#lang-switch") == "中文"
        page.wait_for_function(
            "() => document.querySelector('#township-chart .gtitle').textContent === 'Targets per township'"
        )
        page.screenshot(path=str(artifacts / "overview-en.png"))
        assert outside == [], f"the page reached outside the machine: {outside[:3]}"
    except Exception:
        page.screenshot(path=str(artifacts / "overview-failure.png"))
        raise
    finally:
        page.close()


@pytest.mark.browser
def test_auditor_filters_the_audit_trail_in_the_browser(browser, live_url, artifacts, users):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        browser_login(page, live_url, users["auditor"], PASSWORD)
        page.click("#nav-audit")
        page.wait_for_selector("#audit-table td")
        page.fill("#audit-actor", users["auditor"])
        page.press("#audit-actor", "Enter")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#audit-table td[data-dash-column=actor]')]"
            f".every(td => td.innerText === '{users['auditor']}')"
        )
        assert "login" in page.inner_text("#audit-table")
        page.screenshot(path=str(artifacts / "audit.png"))
    except Exception:
        page.screenshot(path=str(artifacts / "audit-failure.png"))
        raise
    finally:
        page.close()
