"""The supervisor's cockpit in Chromium (issue 35, item 6): the oversight role picks a year,
reads the cards, opens an indicator, clicks a unit's bar and a township and lands on the records
behind each figure (as many rows as the figure counts); a unit's head sees his own units only;
an officer is refused the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.webutil import browser_login, wait_for

YEAR = "2018"


@pytest.fixture(scope="module")
def records_2018(engine):
    """2018 records of U001 (7 inspections in one township) and U002 (3): no other test writes 2018."""
    with engine.begin() as c:
        units = dict(c.execute(text("SELECT code, id FROM enforcement_unit WHERE code IN ('U001', 'U002')")).all())
        town = c.execute(text("SELECT code FROM township ORDER BY code LIMIT 1")).scalar_one()
        c.execute(text("DELETE FROM enforcement_record WHERE on_date BETWEEN DATE '2018-01-01' AND DATE '2018-12-31'"))
        for code, n in (("U001", 7), ("U002", 3)):
            c.execute(
                text(
                    """INSERT INTO enforcement_record (kind, unit_id, township_code, on_date, ref)
                       SELECT 'inspection', :u, :t, DATE '2018-03-01' + g, :code || '-2018-' || g
                       FROM generate_series(1, :n) g"""
                ),
                {"u": units[code], "t": town, "n": n, "code": code},
            )
    yield {"units": units, "town": town}
    with engine.begin() as c:
        c.execute(text("DELETE FROM enforcement_record WHERE on_date BETWEEN DATE '2018-01-01' AND DATE '2018-12-31'"))


def choose(page, dropdown: str, option: str) -> None:
    """Open a drop-down (again, if a redraw closed it) until the option shows, then pick it."""

    # in the middle of the window, so its list opens on screen
    page.eval_on_selector(dropdown, "e => e.scrollIntoView({block: 'center'})")

    def shown() -> bool:
        if page.get_by_role("option", name=option).count() == 0:
            page.keyboard.press("Escape")
            page.click(dropdown)
        return page.get_by_role("option", name=option).count() > 0

    wait_for(shown, what=f"the option {option}")
    page.get_by_role("option", name=option).first.click()


def refusals(engine, actor: str) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT count(*) FROM audit_log WHERE actor = :a AND action = 'refused'"), {"a": actor}
        ).scalar_one()


def choose_period(page, period: str) -> None:
    page.click("#sup-period")
    page.get_by_role("option", name=period, exact=True).first.click()
    page.wait_for_selector(f"#sup-period:has-text('{period}')")


def test_from_the_card_to_a_unit_and_a_township_down_to_the_records(browser, live_app, users, records_2018, artifacts):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        browser_login(page, live_app["url"], users["oversight"], PASSWORD)
        page.goto(live_app["url"] + "/supervision")
        page.wait_for_selector(".lg-sup-card")
        choose_period(page, YEAR)
        card = page.locator(".lg-sup-card[data-indicator='inspections']")
        wait_for(lambda: card.locator(".value").inner_text() == "10", what="2018's 10 inspections on the card")
        card.click()
        page.wait_for_selector(".lg-sup-card.selected[data-indicator='inspections']")
        # the month-by-month trend: March 2018 holds all ten
        page.wait_for_selector("#sup-trend .gtitle:has-text('行政检查次数逐月趋势')")
        wait_for(lambda: page.locator("#sup-trend .scatterlayer .point").count() == 12, what="twelve months")
        # the bars: U001 with 7, U002 with 3 (once redrawn for this indicator); a click on
        # U001's bar lists its 7 records
        page.wait_for_selector("#sup-bars .gtitle:has-text('行政检查次数（2018）')")
        wait_for(lambda: page.locator("#sup-bars .bars path").count() == 2, what="two units' bars")
        bar = page.locator("#sup-bars .bars path").first  # the largest first
        bar.click(force=True)
        page.wait_for_selector("#sup-drill-title:has-text('共 7 条')")
        wait_for(lambda: page.locator("#sup-drill tbody tr").count() == 7 + 1, what="7 rows under the header")
        assert "U001-2018-" in page.inner_text("#sup-drill")
        # by township: one township holds all 10
        page.click("#sup-by label:has-text('街镇')")
        wait_for(lambda: page.locator("#sup-bars .bars path").count() == 1, what="one township's bar")
        page.locator("#sup-bars .bars path").first.click(force=True)
        page.wait_for_selector("#sup-drill-title:has-text('共 10 条')")
        href = page.get_attribute("#sup-export", "href")
        assert f"period={YEAR}" in href and "by=township" in href and f"value={records_2018['town']}" in href
        page.screenshot(path=str(artifacts / "supervision-cockpit.png"))
    finally:
        page.close()


def test_a_unit_head_sees_his_own_and_an_officer_is_refused(browser, live_app, users, records_2018, engine):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(page, live_app["url"], users["organ_head"], PASSWORD)
        page.goto(live_app["url"] + "/supervision")
        page.wait_for_selector(".lg-sup-card")
        choose_period(page, YEAR)
        card = page.locator(".lg-sup-card[data-indicator='inspections']")
        wait_for(lambda: card.locator(".value").inner_text() == "7", what="U001's own 7 only")
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(page, live_app["url"], users["officer"], PASSWORD)
        assert page.locator("#nav-supervision").is_hidden()
        before = refusals(engine, users["officer"])
        page.goto(live_app["url"] + "/supervision")
        wait_for(lambda: refusals(engine, users["officer"]) > before, what="the refused visit in the audit trail")
        assert page.locator(".lg-sup-card").count() == 0
    finally:
        page.close()


def test_the_organ_opens_a_case_issues_a_letter_and_the_unit_replies_on_its_screen(browser, live_app, users, engine):
    subject = f"疑似按月下达罚款指标 {dt.datetime.now():%H%M%S%f}"
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        browser_login(page, live_app["url"], users["oversight"], PASSWORD)
        page.goto(live_app["url"] + "/supervision")
        page.wait_for_selector(".lg-sup-card")
        choose(page, "#sup-open-unit", "滨海新区市场监管综合行政执法支队")
        page.fill("#sup-open-subject", subject)
        page.click("#sup-open")
        page.wait_for_selector(f"#sup-cases td:has-text('{subject}')")
        case_no = page.inner_text("#sup-case-message").split("：", 1)[1].split("（")[0]
        # a 督办函 without its due day is refused in words; with it, numbered and issued
        choose(page, "#sup-step-case", case_no)
        choose(page, "#sup-step-kind", "督办函")
        page.fill("#sup-step-note", "限期撤销罚款指标并报送整改情况")
        page.click("#sup-step")
        page.wait_for_selector("#sup-case-message:has-text('报送整改情况的期限')")
        page.fill("#sup-step-due", due)
        page.keyboard.press("Enter")
        page.click("#sup-step")
        page.wait_for_selector("#sup-case-message:has-text('已发函')")
        row = page.locator(f"#sup-cases tr:has-text('{subject}')")
        wait_for(lambda: due in row.inner_text() and "督办函" in row.inner_text(), what="the letter in the list")
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(page, live_app["url"], users["organ_head"], PASSWORD)  # U001's head
        page.goto(live_app["url"] + "/supervision")
        page.wait_for_selector(f"#sup-cases td:has-text('{subject}')")
        assert page.locator("#sup-open").is_hidden() and page.locator("#sup-step").is_hidden()
        choose(page, "#sup-step-case", case_no)
        page.fill("#sup-step-note", "已撤销指标，附整改报告")
        page.click("#sup-reply")
        page.wait_for_selector("#sup-case-message:has-text('已答复')")
    finally:
        page.close()
    with engine.connect() as c:
        actions = (
            c.execute(
                text(
                    "SELECT a.action FROM audit_log a JOIN supervision_case s ON a.subject = 'supervision:' || s.id "
                    "WHERE s.subject = :s ORDER BY a.id"
                ),
                {"s": subject},
            )
            .scalars()
            .all()
        )
    assert actions == ["supervision_open", "supervision_supervision_letter", "supervision_reply"]
