"""Names are shown as text on every page, never run: a target, an officer and a unit named
with script and HTML payloads, looked at in Chromium on the command map, dispatch, coverage
and devices pages. The Content-Security-Policy runs no inline script but Dash's own (the
pages work, and no violation is reported by the app's own code)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.webutil import browser_login

PAYLOADS = {
    "target": '<img src=x onerror="window.__pwned=1">靶',
    "officer": "<script>window.__pwned=2</script>员",
    "unit": '"><svg onload="window.__pwned=3">单位',
}
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
    e => window.__violations.push(
        e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "") + " @" + location.pathname));
"""


@pytest.fixture
def hostile_names(engine):
    """One target, one officer and one unit renamed with payloads, and a task on the target
    (so the dispatcher's map shows its tooltip); all restored afterwards."""
    with engine.begin() as c:
        target_id, old_target, domain, unit_id = c.execute(
            text(
                """SELECT t.id, t.name, p.domain_key, p.unit_id FROM target t
                   JOIN power_item p ON p.domain_key = ANY(t.domains)
                   WHERE t.township_code IS NOT NULL ORDER BY t.id DESC LIMIT 1"""
            )
        ).one()
        officer_id, old_officer = c.execute(
            text("SELECT id, name FROM officer WHERE unit_id = :u ORDER BY id LIMIT 1"), {"u": unit_id}
        ).one()
        old_unit = c.execute(text("SELECT name FROM enforcement_unit WHERE id = :u"), {"u": unit_id}).scalar()
        c.execute(text("UPDATE target SET name = :n WHERE id = :i"), {"n": PAYLOADS["target"], "i": target_id})
        c.execute(text("UPDATE officer SET name = :n WHERE id = :i"), {"n": PAYLOADS["officer"], "i": officer_id})
        c.execute(text("UPDATE enforcement_unit SET name = :n WHERE id = :i"), {"n": PAYLOADS["unit"], "i": unit_id})
        task = c.execute(
            text(
                "INSERT INTO inspection (target_id, domain_key, source, due_at, created_by) "
                "VALUES (:t, :d, 'api', :due, 'xss-test') RETURNING id"
            ),
            {"t": target_id, "d": domain, "due": dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)},
        ).scalar()
    yield {"target_id": target_id, "officer_id": officer_id, "unit_id": unit_id, "task": task}
    with engine.begin() as c:
        c.execute(text("DELETE FROM inspection_event WHERE inspection_id = :t"), {"t": task})
        c.execute(text("DELETE FROM inspection WHERE id = :t"), {"t": task})
        c.execute(text("UPDATE target SET name = :n WHERE id = :i"), {"n": old_target, "i": target_id})
        c.execute(text("UPDATE officer SET name = :n WHERE id = :i"), {"n": old_officer, "i": officer_id})
        c.execute(text("UPDATE enforcement_unit SET name = :n WHERE id = :i"), {"n": old_unit, "i": unit_id})


def open_tooltips(page, map_id: str) -> list[str]:
    """Open every tooltip of a page's map and return their inner HTML."""
    return page.evaluate(
        f"""() => {{ const m = window.lawgrid.maps[{map_id!r}], out = [];
            m.eachLayer(l => {{ if (l.getTooltip && l.getTooltip()) {{ l.openTooltip(); }} }});
            document.querySelectorAll('#{map_id} .leaflet-tooltip').forEach(t => out.push(t.innerHTML));
            return out; }}"""
    )


def test_hostile_names_are_text_on_every_page(browser, live_app, users, hostile_names, artifacts):
    url = live_app["url"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.add_init_script(WATCH)
    try:
        browser_login(page, url, users["admin"], PASSWORD)
        page.wait_for_selector(".lg-cell")  # the command map works under the policy

        page.goto(url + f"/dispatch?task={hostile_names['task']}")
        page.wait_for_selector("#candidates-heading")
        assert PAYLOADS["target"] in page.inner_text("#candidates-heading")
        page.wait_for_function("() => (window.lawgrid.maps || {})['dispatch-map']")
        page.wait_for_selector("#dispatch-map .lg-task", state="attached")
        tips = open_tooltips(page, "dispatch-map")
        assert any("&lt;img src=x" in tip for tip in tips), tips
        assert not page.query_selector("#dispatch-map .leaflet-tooltip img")

        page.goto(url + "/coverage")
        page.wait_for_selector("#cov-unit-chart .ytick")
        labels = page.eval_on_selector_all("#cov-unit-chart .ytick text", "els => els.map(e => e.textContent)")
        assert any(PAYLOADS["unit"] in label for label in labels), labels
        assert not page.query_selector("#cov-unit-chart svg svg[onload]")

        page.goto(url + "/devices")
        page.wait_for_selector("#replay-map")
        page.screenshot(path=str(artifacts / "xss-devices.png"))

        assert page.evaluate("() => window.__pwned") is None  # no payload ever ran
        own = [v for v in page.evaluate("() => window.__violations") if "127.0.0.1" in v or " inline " in v]
        assert own == []  # the app's own scripts all run under the policy
    finally:
        page.close()


def test_every_answer_carries_the_security_headers(live_app):
    for path in ("/login", "/api/health"):
        r = requests.get(live_app["url"] + path, timeout=10)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
