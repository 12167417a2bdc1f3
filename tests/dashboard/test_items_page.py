"""执法事项 page in Chromium: an officer finds an item by name, reads its tiers and the bands
drawn per level, and checks an amount before proposing it: out of the statutory range, then
inside the band."""

import pytest

from tests.conftest import PASSWORD
from tests.webutil import browser_login

pytestmark = pytest.mark.browser


def test_an_officer_looks_an_item_up_and_checks_an_amount(browser, live_app, users, artifacts):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(page, live_app["url"], users["officer"], PASSWORD)
        page.goto(live_app["url"] + "/items")
        page.wait_for_selector('[data-code="market_regulation.04"]')
        page.fill("#items-search", "无照")
        page.press("#items-search", "Enter")
        page.wait_for_function("() => document.querySelectorAll('#items-list li').length === 1")
        page.click('[data-code="market_regulation.06"] a')
        page.wait_for_selector("#items-title:has-text('未经设立登记从事一般经营活动')")
        detail = page.inner_text("#items-detail")
        assert "refuse_to_correct：拒不改正 · 10000–100000 元" in detail and "台安县" in detail
        page.wait_for_selector("#items-chart .bars path")  # the bands, drawn
        page.click("#items-tier")
        page.get_by_role("option", name="refuse_to_correct · 拒不改正").click()
        page.fill('[id*="turnover_yuan"]', "50000")
        page.fill('[id*="harm"]', "否")
        page.fill("#items-fine", "120000")
        page.click("#items-check")
        page.wait_for_selector('[data-verdict="unlawful"]')
        assert "罚款超出法定幅度" in page.inner_text("#items-verdict")
        page.fill("#items-fine", "30000")
        page.click("#items-check")
        page.wait_for_selector('[data-verdict="ok"]')
        assert "从轻" in page.inner_text("#items-verdict") and "10,000.00 – 37,000.00" in page.inner_text(
            "#items-verdict"
        )
        page.screenshot(path=str(artifacts / "items-check.png"), full_page=True)
    finally:
        page.close()
