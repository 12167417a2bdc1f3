"""A case walked through the pages in a real browser: a violation found on inspection, filed
from the sources page by the organ head, investigated by the officer, reviewed, approved and
notified; the early decision is refused with its rule shown; then the party's written waiver,
the decision, service, performance and closing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.casework import handlers, violation
from tests.conftest import PASSWORD
from tests.webutil import browser_login

pytestmark = pytest.mark.usefixtures("users")


def as_user(browser, live_app, username: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    browser_login(page, live_app["url"], username, PASSWORD)
    return page


def choose(page, selector: str, label: str) -> None:
    page.click(selector)
    page.get_by_role("option", name=label).first.click()
    page.keyboard.press("Escape")  # a multiple choice stays open


def take(page, url: str, action: str, *, fill=None, pick=None, tick=()) -> None:
    page.goto(url)
    page.click(f'[data-action="{action}"]')
    page.wait_for_selector("#case-submit")
    for name, value in (fill or {}).items():
        page.locator(f'[data-field="{name}"] textarea, [data-field="{name}"] input').first.fill(value)
    for name, value in (pick or {}).items():
        choose(page, f'[data-field="{name}"] .dash-dropdown', value)
    for name in tick:
        for option in page.locator(f'[data-field="{name}"] label').all():
            option.click()
    page.click("#case-submit")
    page.wait_for_selector("#case-ok, #case-error")
    assert page.locator("#case-error").count() == 0, page.locator("#case-error").inner_text()


def test_a_case_from_a_violation_to_closing_in_the_browser(browser, live_app, engine):
    with Session(engine) as s:
        source = violation(s, note="浏览器测试：超标价销售")
        labels = [
            f"{r.name}（{r.cert_no}）"
            for r in s.execute(
                text("SELECT name, cert_no FROM officer WHERE id = ANY(:o) ORDER BY id"), {"o": handlers(s)}
            )
        ]
        s.commit()
    base = live_app["url"]

    head = as_user(browser, live_app, "t-organ_head")
    head.goto(base + "/cases/sources")
    choose(head, "#file-source", f"#{source['id']} 浏览器测试：超标价销售")
    choose(head, "#file-item", "market_regulation.04 价格违法行为处罚")
    for label in labels:
        choose(head, "#file-officers", label)
    head.locator("#file-facts").fill("检查发现超标价销售")
    head.locator("#file-act-continues input").check()  # the act is still going on: dated the day it was found
    head.click("#file-submit")
    link = head.locator("#file-ok")
    link.wait_for()
    case_url = base + link.get_attribute("href")

    officer = as_user(browser, live_app, "t-officer")
    take(officer, case_url, "start_investigation", tick=["rights_told"])
    take(officer, case_url, "record_evidence", pick={"kind": "书证"}, fill={"description": "价签照片三张"})
    take(
        officer,
        case_url,
        "close_investigation",
        pick={"proposed.kinds": "fine", "proposed.tier": "有违法所得 · 违法所得 0–5 倍"},
        fill={
            "facts": "超标价销售，价签与销售记录为证",
            "proposed.fine_yuan": "5000",
            "proposed.base_yuan": "2000",
            "discretion_reason": "初次违法，从轻",
        },
    )

    reviewer = as_user(browser, live_app, "t-case_reviewer")
    reviewer.goto(base + "/cases/review")
    reviewer.get_by_text(re.compile("津滨U001立")).first.wait_for()
    take(reviewer, case_url, "review", pick={"opinion": "agree", "discretion": "accept"}, tick=["checks"])

    take(head, case_url, "approve")
    take(officer, case_url, "notify")

    head.goto(case_url)
    refused = head.locator('[data-refused="decide"]')
    refused.wait_for()
    assert "告知后五个工作日未满" in refused.inner_text()

    take(officer, case_url, "waive", fill={"note": "当事人书面放弃陈述、申辩和听证"})
    take(head, case_url, "decide", pick={"kind": "penalty"})
    take(officer, case_url, "serve")
    take(officer, case_url, "record_performance", fill={"reference": "非税缴款书 1201160000001"})
    take(head, case_url, "close")

    head.goto(case_url)
    head.wait_for_selector('#case-heading[data-status="closed"]')
    timeline = head.locator("#case-timeline").inner_text()
    for step in ("立案", "开始调查", "审核", "送达告知书", "作出决定", "送达决定书", "结案"):
        assert step in timeline
    for page in (head, officer, reviewer):
        page.close()
