"""Dispatch in the browser (Chromium) on a real server: the dispatcher's page assigns one task and
a batch, picks a crew by hand and reassigns with a reason; the command map shows a crew on its
task in its own colour; the desk takes a complaint, draws a random plan and registers a recusal."""

import re

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from tests.dashboard.test_dispatch_api import DUE, jt808_phone, new_task
from tests.webutil import browser_login, jt808_report


@pytest.mark.browser
def test_dispatcher_assigns_from_the_page_and_in_bulk(browser, live_app, dispatcher, setting, users, engine, artifacts):
    urgent = new_task(dispatcher, setting, priority=1)
    for i, officer in enumerate(setting["officers"][:2]):  # two officers on patrol nearby
        jt808_report(
            live_app["jt808"], jt808_phone(engine, officer), setting["lat"] + 0.01 * (i + 1), setting["lon"] - 0.01
        )
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    try:
        browser_login(page, live_app["url"], users["dispatcher"], PASSWORD)
        page.click("#nav-dispatch")
        row = page.locator(f"#queue button:has-text('#{urgent} ')")
        row.wait_for()
        assert "紧急" in row.inner_text()
        page.wait_for_function(
            "() => [...document.querySelectorAll('#queue .lg-due')].every(e => /^(剩余|已超时) /.test(e.textContent))",
        )
        row.click()
        page.wait_for_selector("#candidates-heading")
        assert page.inner_text("#candidates-heading").startswith(f"#{urgent} ")
        page.wait_for_selector("#crew-1 .lg-assign")
        assert "公里" in page.inner_text("#crew-1")
        page.wait_for_function(
            "() => document.querySelectorAll('.lg-candidate').length >= 2"
        )  # the crews on the map, from their live positions
        page.screenshot(path=str(artifacts / "dispatch-candidates.png"))
        page.click("#crew-1 .lg-assign")
        page.wait_for_selector("#assign-ok")
        assert dispatcher.get(f"/api/inspections/{urgent}").json()["status"] == "assigned"
        page.wait_for_function(
            f"""() => [...document.querySelectorAll('#queue button')]
            .some(b => b.textContent.includes('#{urgent} ') && b.textContent.includes('已指派'))""",
        )

        bulk = [new_task(dispatcher, setting, priority=3) for _ in range(2)]
        page.wait_for_function(
            f"""() => [...document.querySelectorAll('#queue button')]
            .some(b => b.textContent.includes('#{bulk[-1]} '))""",
        )  # pushed live
        page.click("#bulk-preview")
        page.wait_for_selector("#bulk-summary")
        assert "合计路程" in page.inner_text("#bulk-summary")
        page.screenshot(path=str(artifacts / "dispatch-bulk-plan.png"))
        page.click("#bulk-commit")
        page.wait_for_selector("#bulk-ok")
        statuses = [dispatcher.get(f"/api/inspections/{t}").json()["status"] for t in bulk]
        assert statuses == ["assigned", "assigned"], statuses
    finally:
        page.close()


ON_TASK_RGB = [0x7B, 0x2C, 0xBF]  # lawgrid.liveColors.task
ON_TASK = ",".join(map(str, ON_TASK_RGB))


@pytest.mark.browser
def test_the_command_map_shows_a_crew_on_task_in_its_own_colour(
    browser, live_app, dispatcher, setting, users, engine, artifacts
):
    officer = setting["officers"][0]
    phone = jt808_phone(engine, officer)
    with engine.begin() as c:  # earlier tests here left this module's crews on tasks
        c.execute(  # a completed task stays completed, as it would in the product (its coverage fact stands)
            text("UPDATE inspection SET status = 'cancelled' WHERE due_at = :d AND status <> 'completed'"), {"d": DUE}
        )
        device = c.execute(text("SELECT id FROM device WHERE identifier = :p"), {"p": phone}).scalar_one()
        # an open alarm would keep the dot in the alarm's colour (other tests may have raised one)
        c.execute(
            text("UPDATE alarm SET status = 'resolved' WHERE device_id = :d AND status <> 'resolved'"), {"d": device}
        )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        browser_login(page, live_app["url"], users["operator"], PASSWORD)
        page.wait_for_function("() => window.lawgrid && window.lawgrid.dots")
        page.wait_for_selector("body[data-live-socket=connected]", state="attached")
        jt808_report(live_app["jt808"], phone, setting["lat"] + 0.02, setting["lon"] + 0.02)
        page.wait_for_function(f"() => window.lawgrid.painted({device})")
        page.evaluate(
            f"() => {{ const d = window.lawgrid.live.get({device});"
            f" window.lawgrid.map.setView([d.lat, d.lon], 14, {{animate: false}}); }}"
        )
        assert page.evaluate(f"() => window.lawgrid.pixelAt({device})")[:3] != ON_TASK_RGB

        task = new_task(dispatcher, setting)
        r = dispatcher.post(f"/api/inspections/{task}/assign", {"officer_ids": setting["officers"][:2]})
        assert r.status_code == 200, r.text
        page.wait_for_function(f"() => window.lawgrid.pixelAt({device}).slice(0, 3).join() === '{ON_TASK}'")
        page.screenshot(path=str(artifacts / "map-crew-on-task.png"))
        assert (
            dispatcher.post(
                f"/api/inspections/{task}/status", {"status": "cancelled", "reason": "测试结束"}
            ).status_code
            == 200
        )
        page.wait_for_function(f"() => window.lawgrid.pixelAt({device}).slice(0, 3).join() !== '{ON_TASK}'")
    finally:
        page.close()


@pytest.mark.parametrize("viewport", [(1366, 768), (1600, 1000)], ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_dispatcher_picks_a_crew_by_hand_and_moves_the_task_with_a_reason(
    browser, live_app, dispatcher, setting, users, engine, artifacts, viewport
):
    task = new_task(dispatcher, setting)
    a, b = setting["officers"][2:4]
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        browser_login(page, live_app["url"], users["dispatcher"], PASSWORD)
        page.goto(f"{live_app['url']}/dispatch?task={task}")
        page.wait_for_selector("#candidates-heading")
        # Several crews of the one unit the dispatcher acts for, each with its estimate's source.
        page.wait_for_selector("#crew-2")
        for crew in ("#crew-1", "#crew-2"):
            assert re.search(
                r"合计路程约 \d+\.\d 公里（(按实时定位|按所在街镇中心估算|部分按所在街镇中心估算)）",
                page.inner_text(crew),
            )
        # A manual pick of two lawful officers.
        page.click(".lg-pick summary")
        for officer in (a, b):
            page.locator(f".lg-pick-list input[value='{officer}']").check()
        page.click("#task-pick-assign")
        page.wait_for_selector("#dispatch-message .lg-ok")
        assert sorted(o["id"] for o in dispatcher.get(f"/api/inspections/{task}").json()["officers"]) == sorted([a, b])
        # Accepted, recorded here for the crew: refused without the reason, marked with it.
        page.wait_for_selector("#task-status-to")
        page.click("#task-status-to")
        page.get_by_role("option", name="已接受").click()
        page.click("#task-status-apply")
        page.wait_for_selector("#task-status-error:has-text('须说明代为记录的理由')")
        page.fill("#task-reason", "组长电话确认接单")
        page.click("#task-status-apply")
        page.wait_for_selector("#task-status-ok")
        page.wait_for_selector(".lg-on-behalf:has-text('代为记录：已接受')")
        page.screenshot(path=str(artifacts / f"dispatch-status-{viewport[0]}x{viewport[1]}.png"))
        # Under way, the task goes to another crew, with the reason.
        c, d = setting["officers"][:2]
        page.click(".lg-pick summary:has-text('改派')")
        for officer in (c, d):
            page.locator(f".lg-pick-list input[value='{officer}']").check()
        page.fill("#task-pick-reason", "原小组车辆故障")
        page.click("#task-pick-assign")
        page.wait_for_function(
            f"""async () => {{ const r = await fetch('/api/inspections/{task}'); const v = await r.json();
                return v.officers.map(o => o.id).sort().join() === '{",".join(map(str, sorted([c, d])))}'; }}""",
        )
        page.wait_for_selector("#dispatch-message .lg-ok:has-text('已指派')")
        page.wait_for_selector("#candidates p.lg-note:has-text('已指派')")  # the panel re-drawn
        # Cancelled with its reason.
        page.click("#task-status-to")
        page.get_by_role("option", name="已取消").click()
        page.fill("#task-reason", "经营者已注销，无需检查")
        page.click("#task-status-apply")
        page.wait_for_selector("#task-status-ok:has-text('已取消')")
        view = dispatcher.get(f"/api/inspections/{task}").json()
        assert view["status"] == "cancelled" and view["events"][-1]["detail"]["reason"] == "经营者已注销，无需检查"
    finally:
        page.close()


def pick(page, dropdown: str, typed: str, option: str) -> None:
    """Open a drop-down, type into its search box and click the option."""
    page.click(dropdown)
    page.get_by_placeholder("搜索").fill(typed)
    page.get_by_role("option", name=option).first.click()


@pytest.mark.parametrize("viewport", [(1366, 768), (1600, 1000)], ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_desk_takes_a_complaint_draws_a_plan_and_registers_a_recusal(
    browser, live_app, dispatcher, setting, users, engine, artifacts, viewport
):
    with engine.connect() as c:
        target_name, domain_zh = c.execute(
            text("SELECT t.name, d.zh FROM target t, domain d WHERE t.id = :t AND d.key = :d"),
            {"t": setting["target_id"], "d": setting["domain_key"]},
        ).one()
        officer_name = c.execute(text("SELECT name FROM officer WHERE id = :o"), {"o": setting["officers"][0]}).scalar()
        plans_before = c.execute(text("SELECT coalesce(max(id), 0) FROM random_plan")).scalar()
    report = f"夜间施工噪音扰民，持续一周（{viewport[0]}）"
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        browser_login(page, live_app["url"], users["dispatcher"], PASSWORD)
        page.goto(f"{live_app['url']}/dispatch")
        page.click("#desk-link")
        page.wait_for_selector("#desk-complaint")
        # A complaint taken on the phone: caller, contact, report, the target found by name.
        page.fill("#desk-caller", "王先生")
        page.fill("#desk-contact", "13800001111")
        page.fill("#desk-report", report)
        pick(page, "#desk-target", target_name, target_name)
        page.click("#desk-domain")
        page.get_by_role("option", name=domain_zh).click()
        page.dblclick("#desk-complaint-submit")  # a double click makes one task
        page.wait_for_selector("#desk-complaint-ok")
        task = int(re.search(r"\d+", page.inner_text("#desk-complaint-ok")).group())
        with engine.connect() as c:
            complaint, made = c.execute(
                text(
                    "SELECT complaint, (SELECT count(*) FROM inspection x WHERE x.request_key = i.request_key) "
                    "FROM inspection i WHERE i.id = :i"
                ),
                {"i": task},
            ).one()
        assert complaint == {"caller": "王先生", "phone": "13800001111", "report": report} and made == 1
        queue = page.context.new_page()  # the dispatcher's queue shows the report on lines, not a column
        queue.set_viewport_size({"width": 1400, "height": 1000})
        queue.goto(live_app["url"] + "/dispatch")
        shown = queue.locator(".lg-queue-row .lg-complaint", has_text="王先生").first
        shown.wait_for()
        box = shown.bounding_box()
        assert box is not None and box["width"] > 150 and box["height"] < 60, box
        queue.close()

        # The random plan: previewed (nothing drawn), then drawn, published and followed.
        pick(page, "#desk-plan-domains", domain_zh[:2], domain_zh)
        page.fill("#desk-plan-share", "2")
        page.click("#desk-plan-preview")
        page.wait_for_selector("#desk-plan-ok:has-text('预览')")
        with engine.connect() as c:
            assert c.execute(text("SELECT coalesce(max(id), 0) FROM random_plan")).scalar() == plans_before
        page.click("#desk-plan-draw")
        page.wait_for_selector("#desk-plan-ok:has-text('已抽取')")
        with engine.connect() as c:
            plan = c.execute(text("SELECT max(id) FROM random_plan")).scalar()
        assert plan > plans_before
        page.wait_for_selector(f"#desk-plan-{plan}:has-text('完成 0/')")
        csv = page.request.get(f"{live_app['url']}/api/plans/{plan}.csv")
        assert csv.status == 200 and "双随机" in csv.text()

        # The recusal register: the officer is kept away from the complained-of target.
        pick(page, "#desk-rec-officer", officer_name, officer_name)
        pick(page, "#desk-rec-target", target_name, target_name)
        page.fill("#desk-rec-reason", "其配偶为该企业股东")
        page.click("#desk-rec-submit")
        page.wait_for_selector("#desk-rec-ok")
        page.wait_for_selector("#desk-recusal-table:has-text('其配偶为该企业股东')")
        page.screenshot(path=str(artifacts / f"dispatch-desk-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        candidates = dispatcher.get(f"/api/inspections/{task}/candidates").json()
        assert setting["officers"][0] not in {o["id"] for c in candidates["crews"] for o in c["officers"]}

        # The complaint's caller and report show in the dispatcher's queue.
        page.goto(f"{live_app['url']}/dispatch")
        row = page.locator("#queue button").filter(has_text=re.compile(rf"#{task}\s"))
        row.wait_for()
        assert "投诉：王先生 13800001111：夜间施工噪音扰民" in row.inner_text()
    finally:
        page.close()
        with engine.begin() as c:
            c.execute(
                text("DELETE FROM recusal WHERE officer_id = :o AND target_id = :t"),
                {"o": setting["officers"][0], "t": setting["target_id"]},
            )
            c.execute(
                text("UPDATE inspection SET status = 'cancelled' WHERE plan_id > :p AND status <> 'completed'"),
                {"p": plans_before},
            )
            c.execute(
                text(
                    "UPDATE inspection SET status = 'cancelled' WHERE source = 'complaint' "
                    "AND status <> 'completed' AND complaint->>'report' = :r"
                ),
                {"r": report},
            )


def test_a_task_under_way_is_reassigned_only_with_a_reason(dispatcher, setting, engine):
    a, b, c, d = setting["officers"][:4]
    task = new_task(dispatcher, setting)
    assert dispatcher.post(f"/api/inspections/{task}/assign", {"officer_ids": [a, b]}).status_code == 200
    assert (
        dispatcher.post(f"/api/inspections/{task}/status", {"status": "accepted", "reason": "电话"}).status_code == 200
    )
    r = dispatcher.post(f"/api/inspections/{task}/reassign", {"officer_ids": [c, d], "reason": " "})
    assert r.status_code == 422 and r.json()["violations"][0]["rule"] == "reassign_reason"
    r = dispatcher.post(f"/api/inspections/{task}/reassign", {"officer_ids": [c, d], "reason": "原小组被调往火情现场"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "assigned" and sorted(o["id"] for o in view["officers"]) == sorted([c, d])
    released = [e for e in view["events"] if e["detail"].get("reassigned")]
    assert released and released[0]["detail"]["previous_officers"] == sorted([a, b])
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'inspection_reassign' AND subject = :s"),
                {"s": f"inspection:{task}"},
            ).scalar()
            == 1
        )
    # A completed task is not reassigned.
    assert (
        dispatcher.post(f"/api/inspections/{task}/status", {"status": "cancelled", "reason": "测试"}).status_code == 200
    )
    r = dispatcher.post(f"/api/inspections/{task}/reassign", {"officer_ids": [a, b], "reason": "x"})
    assert r.status_code == 409
