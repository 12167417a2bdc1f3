"""The 审计 page as an auditor reads it (Chromium): a refusal is an entry with its rule in
words, every entry carries its source address, times are Beijing time, the page speaks both
languages, and it filters by actor, action, target and dates."""

import datetime as dt
import re

import pytest
import requests

from tests.conftest import PASSWORD
from tests.dashboard.test_live import token
from tests.webutil import browser_login

VIEWPORTS = [(1366, 768), (1600, 1000)]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_auditor_finds_a_refusal_and_a_task_with_their_source(browser, live_app, users, artifacts, viewport):
    url = live_app["url"]
    auth = {"Authorization": f"Bearer {token(url, users['dispatcher'])}"}
    # Refused: the dispatcher's role may not read the audit trail (403, rule role:audit.read).
    refused = requests.get(url + "/api/audit?limit=5", headers=auth, timeout=10)
    assert refused.status_code == 403
    # Done: the administrator creates a task and cancels it (the core writes the entries).
    auth = {"Authorization": f"Bearer {token(url, users['admin'])}"}
    feature = requests.get(url + "/api/targets?limit=1", headers=auth, timeout=10).json()["features"][0]
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    created = requests.post(
        url + "/api/inspections",
        json={"target_id": feature["properties"]["id"], "domain": feature["properties"]["domains"][0], "due_at": due},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    task = created.json()["id"]
    cancel = requests.post(
        url + f"/api/inspections/{task}/status",
        json={"status": "cancelled", "reason": "测试结束"},
        headers=auth,
        timeout=10,
    )
    assert cancel.status_code == 200, cancel.text

    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        browser_login(page, url, users["auditor"], PASSWORD)
        page.goto(url + "/audit")
        page.wait_for_selector("#audit-table .dash-spreadsheet")
        page.fill("#audit-actor", users["dispatcher"])
        page.press("#audit-actor", "Enter")
        page.fill("#audit-subject", "/api/audit")
        page.press("#audit-subject", "Enter")
        row = page.locator("#audit-table tr:has-text('被拒绝的操作')").first
        row.wait_for()
        text = row.inner_text()
        assert "该角色无此权限（audit.read）" in text and "127.0.0.1" in text
        # Beijing time, to the second, of today (in Beijing).
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d")
        assert re.search(today + r" \d\d:\d\d:\d\d", text), text
        headers = page.eval_on_selector_all("#audit-table th", "cells => cells.map(c => c.innerText).join('|')")
        assert "时间（北京）" in headers and "来源地址" in headers

        # The task's entries, found by their target, carry the administrator's address too.
        page.fill("#audit-actor", "")
        page.press("#audit-actor", "Enter")
        page.fill("#audit-subject", f"inspection:{task}")
        page.press("#audit-subject", "Enter")
        created_row = page.locator("#audit-table tr:has-text('创建检查任务')").first
        created_row.wait_for()
        assert "127.0.0.1" in created_row.inner_text()
        assert page.locator("#audit-table tr:has-text('检查任务：已取消')").count() >= 1
        # Filtered by action: refusals only hides the task's entries.
        page.fill("#audit-subject", "")
        page.press("#audit-subject", "Enter")
        page.click("#audit-action")
        page.get_by_role("option", name="被拒绝的操作").click()
        page.wait_for_function("() => !document.querySelector('#audit-table').innerText.includes('创建检查任务')")
        page.screenshot(path=str(artifacts / f"audit-zh-{viewport[0]}x{viewport[1]}.png"))

        page.click("#lang-switch")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#audit-table th')].some(c => c.innerText.includes('Time (Beijing)'))"
        )
        page.fill("#audit-subject", "/api/audit")
        page.press("#audit-subject", "Enter")
        page.wait_for_selector("#audit-table tr:has-text('the role does not hold this permission (audit.read)')")
        assert "Refused" in page.inner_text("#audit-table tbody")
        page.screenshot(path=str(artifacts / f"audit-en-{viewport[0]}x{viewport[1]}.png"))
        page.click("#lang-switch")
    finally:
        page.close()
