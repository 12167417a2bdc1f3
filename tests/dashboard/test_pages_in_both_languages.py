"""Every page in both languages, as an administrator sees it (Chromium): each renders, says
nothing in the other language's place (no raw string keys, no Chinese left in the English
page's own labels), and leaves a screenshot in test-artifacts/ for each language."""

import json
import re

import pytest

from tests.conftest import PASSWORD
from tests.webutil import browser_login

# path, a selector that is there once the page has rendered its own content
PAGES = [
    ("/", "#alarms-heading"),
    ("/dispatch", "#dispatch-heading"),
    ("/dispatch/desk", "#desk-complaint"),
    ("/cases", ".lg-page"),
    ("/cases/sources", ".lg-page"),
    ("/cases/warnings", ".lg-page"),
    ("/coverage", "#kpi-random"),
    ("/devices", "#replay-device"),
    ("/audit", "#audit-table"),
    ("/accounts", "#accounts-table"),
    ("/items?code=market_regulation.06", "#items-title"),
    ("/supervision", ".lg-sup-card"),
]
RAW_KEY = re.compile(r"\b(?:[a-z]+\.){1,3}[a-z_]+\.[a-z_]+\b")  # e.g. desk.col.plan left untranslated


# axe-core's rules this suite holds every page to (serious or critical when broken); the other
# findings are written to test-artifacts/axe-*.json (issue 34, item 9: most come from the
# drop-downs' own markup, and are the next step).
ENFORCED = {"html-has-lang", "html-lang-valid", "document-title", "page-has-heading-one"}


def _axe(page, artifacts, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    (artifacts / f"axe-{name}.json").write_text(
        json.dumps([{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in serious])
    )
    broken = [v["id"] for v in serious if v["id"] in ENFORCED]
    assert not broken, broken


@pytest.mark.parametrize("path,ready", PAGES, ids=[p for p, _ in PAGES])
def test_the_page_speaks_both_languages(browser, live_app, users, artifacts, path, ready):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        browser_login(page, live_app["url"], users["admin"], PASSWORD)
        page.goto(live_app["url"] + path)
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
        name = path.split("?")[0].strip("/").replace("/", "-") or "map"
        text = page.inner_text("body")
        assert not RAW_KEY.findall(text), RAW_KEY.findall(text)[:5]
        assert page.evaluate("document.documentElement.lang") == "zh-CN"  # screen readers read Chinese
        _axe(page, artifacts, f"{name}-zh")
        page.screenshot(path=str(artifacts / f"page-{name}-zh.png"))
        page.click("#lang-switch")
        page.wait_for_function("() => document.querySelector('#lang-switch').textContent === '中文'")
        page.wait_for_load_state("networkidle")
        try:
            page.wait_for_function(
                "() => !document.querySelector('header.lg-header').innerText"
                ".replace('中文', '').match(/[\\u4e00-\\u9fff]/)",
            )
        except Exception:
            raise AssertionError(repr(page.inner_text("header.lg-header"))) from None
        text = page.inner_text("body")
        assert not RAW_KEY.findall(text), RAW_KEY.findall(text)[:5]
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        _axe(page, artifacts, f"{name}-en")
        page.screenshot(path=str(artifacts / f"page-{name}-en.png"))
    finally:
        page.evaluate("() => localStorage.setItem('lang', JSON.stringify('zh'))")
        page.close()
