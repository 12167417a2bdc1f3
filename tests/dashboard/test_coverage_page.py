"""The leaders' 覆盖率 page in Chromium: KPI cards and charts equal to the brute-force recount;
a township clicked on the map and a domain clicked in its chart filter every chart (and the
map follows the chart); drill-down from a unit to its officers; an audited CSV export."""

import csv
import datetime as dt
import io
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.coverage_view import today
from geo.coverage import counts
from geo.coverage.model import Filter, Window
from tests.conftest import PASSWORD
from tests.webutil import PATIENCE_S, browser_login

# A point inside the largest township's fill that the township itself receives clicks at.
INSIDE_LARGEST_TOWNSHIP = """() => {
    const paths = [...document.querySelectorAll('#cov-map .leaflet-overlay-pane path.leaflet-interactive')]
        .filter(p => p.getAttribute('fill') !== 'none');  // not the district outline
    const area = p => { const b = p.getBBox(); return b.width * b.height; };
    const path = paths.sort((a, b) => area(b) - area(a))[0];
    if (!path) return null;  // the townships are not drawn yet
    const box = path.getBoundingClientRect();
    for (let fy = 0.5; fy > 0.05; fy -= 0.05) for (const fx of [0.5, 0.4, 0.6, 0.3, 0.7]) {
        const x = box.left + box.width * fx, y = box.top + box.height * fy;
        if (document.elementFromPoint(x, y) === path) return [x, y];
    }
    return null;
}"""


def wait_for_bars(page, graph_id: str, texts: list[str]) -> None:
    page.wait_for_function(
        f"""() => {{
        const plot = document.querySelector('#{graph_id} .js-plotly-plot');
        return plot && plot.data && plot.data[0] && [...plot.data[0].text].sort().join('|') === {"|".join(texts)!r};
    }}""",
    )


def expected_texts(groups: dict) -> list[str]:
    return sorted(f"{n:,}/{d:,}" for n, d in groups.values())


def hover_until(page, point, words: str, timeout_s: float = PATIENCE_S) -> None:
    """Hover the point until its tooltip says words (the layer may be redrawn meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.mouse.move(5, 5)
        page.mouse.move(*point)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and words in tip.first.inner_text():
            return
        time.sleep(0.3)
    raise AssertionError(f"the tooltip never said {words!r}")


def selected(page, dropdown_id: str) -> str:
    """The label a dropdown shows once a selection has set it."""
    item = page.locator(f"#{dropdown_id}-value .dash-dropdown-value-item")
    item.wait_for()
    return item.inner_text().strip()


def wait_for_kpi(page, numerator: int, denominator: int) -> None:
    page.wait_for_function(
        f"() => (document.querySelector('#kpi-coverage') || {{}}).innerText"
        f"?.includes('{numerator:,} / {denominator:,}')",
    )


@pytest.mark.browser
def test_leaders_page_cross_filters_drills_down_and_exports(
    browser, live_app, users, engine, inspection_history, artifacts
):
    end = today()
    window = Window(end - dt.timedelta(days=60), end)
    with Session(engine) as s:
        district = counts.brute_force(s, "district", window)["district"]
        names = dict(s.execute(text("SELECT name, code FROM township")).all())
    page = browser.new_page(viewport={"width": 1600, "height": 1300}, accept_downloads=True)
    try:
        browser_login(page, live_app["url"], users["leader"], PASSWORD)
        page.click("#nav-coverage")
        page.wait_for_selector("#kpi-coverage")
        page.goto(f"{live_app['url']}/coverage?start={window.start}&end={window.end}")
        wait_for_kpi(page, *district)
        with Session(engine) as s:
            wait_for_bars(page, "cov-unit-chart", expected_texts(counts.brute_force(s, "unit", window)))
        page.screenshot(path=str(artifacts / "coverage-district.png"), full_page=True)

        # The map filters the charts: click the largest township.
        point = page.wait_for_function(INSIDE_LARGEST_TOWNSHIP).json_value()
        page.mouse.click(*point)
        town = names[selected(page, "cov-township")]
        with Session(engine) as s:
            in_town = Filter(township=town)
            wait_for_kpi(page, *counts.brute_force(s, "district", window, in_town)["district"])
            wait_for_bars(page, "cov-unit-chart", expected_texts(counts.brute_force(s, "unit", window, in_town)))

        # The domain chart filters the map and the rest: click its tallest bar.
        page.locator("#cov-domain-chart .point path").first.click(force=True)
        with Session(engine) as s:
            domain = s.execute(
                text("SELECT key FROM domain WHERE zh = :n"), {"n": selected(page, "cov-domain")}
            ).scalar_one()
            both = Filter(township=town, domain=domain)
            wait_for_kpi(page, *counts.brute_force(s, "district", window, both)["district"])
            n, d = counts.brute_force(s, "township", window, Filter(domain=domain))[town]
        hover_until(page, point, f"({n:,} / {d:,})")  # the township's tooltip now counts that domain only
        page.screenshot(path=str(artifacts / "coverage-cross-filter.png"), full_page=True)

        # Drill down into the unit with the most targets in scope, to its officers.
        unit_bars = page.locator("#cov-unit-chart .point path")
        unit_bars.last.click(force=True)
        page.wait_for_selector("#cov-crumb-unit")
        unit_name = page.inner_text("#cov-crumb-unit")
        with Session(engine) as s:
            unit = s.execute(text("SELECT id FROM enforcement_unit WHERE name = :n"), {"n": unit_name}).scalar_one()
            drilled = Filter(township=town, domain=domain, unit_ids=frozenset({unit}))
            officers = counts.brute_force(s, "officer", window, drilled)
        assert unit_name in page.text_content("#cov-unit-chart .gtitle")
        wait_for_bars(page, "cov-unit-chart", expected_texts(officers))

        # Export the officers' table.
        page.click("#cov-table-by")
        page.get_by_role("option", name="执法人员").click()
        page.wait_for_function("() => (document.querySelector('#cov-export-csv') || {}).href?.includes('by=officer')")
        with page.expect_download() as download:
            page.click("#cov-export-csv")
        rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
        assert rows[0][0] == "编码 key"
        assert {r[0]: (int(r[2]), int(r[3])) for r in rows[1:]} == officers
        with engine.connect() as c:
            logged = c.execute(
                text(
                    "SELECT detail FROM audit_log WHERE action = 'coverage_export' AND actor = :a "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"a": users["leader"]},
            ).scalar_one()
        assert (logged["format"], logged["township"], logged["domain"], logged["units"]) == (
            "csv",
            town,
            domain,
            [unit],
        )
        page.screenshot(path=str(artifacts / "coverage-drill-down.png"), full_page=True)

        # Back to the district, filters cleared.
        page.click("#cov-crumb-district")
        page.click("#cov-clear")
        wait_for_kpi(page, *district)
        assert "全区覆盖率" in page.inner_text("#kpi-coverage")
        page.click("#lang-switch")
        page.wait_for_function(
            "() => document.querySelector('#cov-heading').innerText === 'Inspection coverage'"
            " && document.querySelector('#kpi-coverage').innerText.includes('District coverage')",
        )
        assert page.inner_text("#nav-coverage") == "Coverage"
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000)], ids=["1366x768", "1600x1000"])
def test_the_page_opens_on_the_last_30_days_and_sorts_coverage_as_numbers(
    browser, live_app, users, inspection_history, artifacts, size
):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        browser_login(page, live_app["url"], users["leader"], PASSWORD)
        page.goto(f"{live_app['url']}/coverage")
        first = (today() - dt.timedelta(days=29)).isoformat()
        page.wait_for_function(  # the range picker shows the 30 days up to today
            "(first) => (document.querySelector('#cov-dates') || {}).value === first",  # the start date's input
            arg=first,
        )
        assert "近30天" in page.inner_text("#cov-period")
        # The random-plan card counts the plans running in the window, not only those due in it.
        page.wait_for_selector("#kpi-random:has-text('进行中计划')")
        page.wait_for_selector('#cov-table td[data-dash-column="ratio"]')
        sort = '#cov-table th[data-dash-column="ratio"] .column-header--sort'

        def shown():
            cells = page.locator('#cov-table td[data-dash-column="ratio"]').all_inner_texts()
            return [float(c.rstrip("%")) for c in cells if c.strip()]

        page.click(sort)  # ascending: the units with none first
        page.click(sort)  # descending: the best covered first (as text, 6.0 % would come before 31.2 %)
        deadline = time.monotonic() + 10
        while True:  # until the clicks have re-sorted the table
            values = shown()
            if len(set(values)) > 2 and values == sorted(values, reverse=True):
                break
            assert time.monotonic() < deadline, f"coverage not sorted as numbers: {values}"
            time.sleep(0.1)
        page.screenshot(path=str(artifacts / f"coverage-sorted-{size[0]}.png"))
    finally:
        page.close()
