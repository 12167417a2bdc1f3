"""Dispatch over the REST API on a real server: tasks, candidates, refusals naming the rule,
scope, parallel requests racing for one task, the lifecycle pushed live, the crew's JT/T 808
terminal receiving the task (0x8300), arrival detected from its telemetry, random plans; and
the dispatcher page in Chromium."""

import asyncio
import datetime as dt
import re
import threading
import time

import pytest
import requests
import socketio
from sqlalchemy import text

from geo.infra.timezone import BEIJING
from ingest.devices import Jt808Terminal
from tests.conftest import PASSWORD
from tests.webutil import browser_login, jt808_report, run_async, wait_for

# Tasks here fall due tomorrow so their load does not touch the daily caps other tests use today.
DUE = (dt.datetime.now(BEIJING) + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


class Client:
    def __init__(self, url, username):
        self.url = url
        r = requests.post(url + "/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=5)
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path, **kw):
        return requests.get(self.url + path, headers=self.headers, timeout=30, **kw)

    def post(self, path, body=None, headers=None, **kw):
        return requests.post(self.url + path, json=body, headers={**self.headers, **(headers or {})}, timeout=30, **kw)


@pytest.fixture(scope="module")
def setting(engine):
    """A U001 target (the scoped test dispatcher acts for U001) and four U001 officers with
    JT/T 808 devices made lawful for it: on duty, certified, their area covering its township.
    Their rows are restored afterwards."""
    with engine.begin() as c:
        row = (
            c.execute(
                text(
                    """SELECT t.id AS target_id, p.domain_key, u.id AS unit_id, t.township_code,
                      ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat
               FROM target t JOIN power_item p ON p.domain_key = ANY(t.domains)
               JOIN enforcement_unit u ON u.id = p.unit_id AND u.code = 'U001'
               WHERE t.township_code IS NOT NULL ORDER BY t.id LIMIT 1"""
                )
            )
            .mappings()
            .one()
        )
        officers = (
            c.execute(
                text(
                    """SELECT o.id, o.duty_state, o.cert_valid_from, o.cert_valid_to FROM officer o
               WHERE o.unit_id = :u AND EXISTS (SELECT 1 FROM device d WHERE d.officer_id = o.id
                                               AND d.protocol = 'jt808')
               ORDER BY o.id LIMIT 4"""
                ),
                {"u": row["unit_id"]},
            )
            .mappings()
            .all()
        )
        ids = [o["id"] for o in officers]
        c.execute(
            text(
                "UPDATE officer SET duty_state = 'on_duty', cert_valid_from = CURRENT_DATE - 30, "
                "cert_valid_to = CURRENT_DATE + 365 WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        added = (
            c.execute(
                text(
                    "INSERT INTO officer_area (officer_id, township_code) SELECT unnest(CAST(:ids AS int[])), :tw "
                    "ON CONFLICT DO NOTHING RETURNING officer_id"
                ),
                {"ids": ids, "tw": row["township_code"]},
            )
            .scalars()
            .all()
        )
    yield {**row, "officers": ids}
    with engine.begin() as c:  # leave no open task and no changed officer behind
        c.execute(  # a completed task stays completed, as it would in the product (its coverage fact stands)
            text("UPDATE inspection SET status = 'cancelled' WHERE due_at = :d AND status <> 'completed'"), {"d": DUE}
        )
        for o in officers:
            c.execute(
                text(
                    "UPDATE officer SET duty_state = :duty_state, cert_valid_from = :cert_valid_from, "
                    "cert_valid_to = :cert_valid_to WHERE id = :id"
                ),
                dict(o),
            )
        c.execute(
            text("DELETE FROM officer_area WHERE township_code = :tw AND officer_id = ANY(:ids)"),
            {"tw": row["township_code"], "ids": added},
        )


@pytest.fixture(scope="module")
def admin(live_app, users):
    return Client(live_app["url"], users["admin"])


@pytest.fixture(scope="module")
def dispatcher(live_app, users):
    return Client(live_app["url"], users["dispatcher"])


def new_task(client, setting, **extra):
    r = client.post(
        "/api/inspections",
        {"target_id": setting["target_id"], "domain": setting["domain_key"], "due_at": DUE.isoformat(), **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_bad_requests_get_a_clear_4xx(dispatcher, setting):
    base = {"target_id": setting["target_id"], "domain": setting["domain_key"], "due_at": DUE.isoformat()}
    cases = [
        ({"domain": setting["domain_key"]}, 400, "required"),
        ({**base, "due_at": "tomorrow"}, 400, "ISO 8601"),
        ({**base, "priority": "urgent"}, 400, "priority"),
        ({**base, "crew_size": 1}, 400, "crew_size"),
        ({**base, "domain": "no_such_domain"}, 400, "no unit holds"),
        ({**base, "items": ["X-404"]}, 400, "power list"),
        ({**base, "target_id": 10**12}, 404, "no target"),
    ]
    for body, status, words in cases:
        r = dispatcher.post("/api/inspections", body)
        assert r.status_code == status and words in r.json()["detail"], (body, r.text)
    assert dispatcher.post("/api/inspections/1/assign", {"officer_ids": "a,b"}).status_code == 400
    assert dispatcher.get("/api/inspections?status=lost").status_code == 400
    assert dispatcher.get("/api/inspections/999999999").status_code == 404


def test_complaint_task_candidates_refusal_override_and_scope(admin, dispatcher, setting, users, live_app, engine):
    task = new_task(
        dispatcher,
        setting,
        priority=1,
        complaint={"caller": "王女士", "phone": "13800000000", "report": "夜间施工噪声扰民"},
    )
    view = dispatcher.get(f"/api/inspections/{task}").json()
    assert view["source"] == "complaint" and view["complaint"]["report"] == "夜间施工噪声扰民"
    assert view["events"][0]["to"] == "created"

    cands = dispatcher.get(f"/api/inspections/{task}/candidates?lang=en").json()
    assert cands["crews"] and all(len(c["officers"]) == 2 and c["reasons"] for c in cands["crews"])
    assert all(c["unit_id"] == setting["unit_id"] for c in cands["crews"])  # scoped to U001

    a, b = setting["officers"][:2]
    with engine.begin() as c:
        c.execute(text("UPDATE officer SET duty_state = 'off_duty' WHERE id = :o"), {"o": a})
    try:
        refused = dispatcher.post(f"/api/inspections/{task}/assign?lang=en", {"officer_ids": [a, b]})
        assert refused.status_code == 422
        assert [(v["rule"], v["officer_id"]) for v in refused.json()["violations"]] == [("off_duty", a)]
        assert refused.json()["violations"][0]["reason"] == "he is not on duty"
        # Only an administrator may override, and the override names its reason in the audit.
        r = dispatcher.post(f"/api/inspections/{task}/assign", {"officer_ids": [a, b], "override_reason": "急"})
        assert r.status_code == 403
        r = admin.post(
            f"/api/inspections/{task}/assign", {"officer_ids": [a, b], "override_reason": "突发事件，临时召回"}
        )
        assert r.status_code == 200 and r.json()["status"] == "assigned"
    finally:
        with engine.begin() as c:
            c.execute(text("UPDATE officer SET duty_state = 'on_duty' WHERE id = :o"), {"o": a})
    with engine.connect() as c:
        audited = c.execute(
            text(
                "SELECT actor, detail->>'reason' FROM audit_log WHERE action = 'inspection_override' AND subject = :s"
            ),
            {"s": f"inspection:{task}"},
        ).one()
    assert audited == (users["admin"], "突发事件，临时召回")

    # A dispatcher of U001 may not send another unit's officers, nor see that unit's tasks.
    with engine.connect() as c:
        foreign = (
            c.execute(
                text(
                    "SELECT o.id FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id "
                    "WHERE u.code <> 'U001' ORDER BY o.id LIMIT 2"
                )
            )
            .scalars()
            .all()
        )
    other = new_task(dispatcher, setting)
    r = dispatcher.post(f"/api/inspections/{other}/assign", {"officer_ids": foreign})
    assert r.status_code == 403 and "your own units" in r.json()["detail"]


def test_parallel_requests_for_one_task_exactly_one_wins(dispatcher, setting):
    task = new_task(dispatcher, setting)
    officers = setting["officers"]
    crews = [[officers[i], officers[j]] for i in range(len(officers)) for j in range(i + 1, len(officers))][:6]
    barrier = threading.Barrier(len(crews))
    answers = [None] * len(crews)

    def go(i):
        barrier.wait()
        answers[i] = dispatcher.post(f"/api/inspections/{task}/assign", {"officer_ids": crews[i]})

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(crews))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * (len(crews) - 1), [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert "can no longer be assigned" in loser.json()["detail"]
    winner = next(r for r in answers if r.status_code == 200).json()
    assert len(winner["officers"]) == 2


def forget_positions(engine, officer_ids):
    """The officers' devices with no live state: as if they had not reported yet."""
    with engine.begin() as c:
        c.execute(
            text("DELETE FROM device_state WHERE device_id IN (SELECT id FROM device WHERE officer_id = ANY(:o))"),
            {"o": list(officer_ids)},
        )


def jt808_phone(engine, officer_id):
    with engine.connect() as c:
        return c.execute(
            text("SELECT identifier FROM device WHERE officer_id = :o AND protocol = 'jt808' ORDER BY id LIMIT 1"),
            {"o": officer_id},
        ).scalar_one()


def test_assignment_reaches_the_crews_terminal_then_lifecycle_and_arrival_are_pushed(
    dispatcher, setting, live_app, engine, users
):
    task = new_task(dispatcher, setting)
    a, b = setting["officers"][2:4]
    phone = jt808_phone(engine, a)
    events = []
    listener = socketio.Client(reconnection=False)
    listener.on("inspection", lambda e: events.append(e), namespace="/live")
    listener.connect(
        live_app["url"],
        namespaces=["/live"],
        transports=["websocket"],
        auth={"token": dispatcher.headers["Authorization"][7:]},
    )

    async def terminal_sees_the_task():
        term = Jt808Terminal(phone, "127.0.0.1", live_app["jt808"])
        await term.connect()
        await term.login()
        answer = await asyncio.to_thread(dispatcher.post, f"/api/inspections/{task}/assign", {"officer_ids": [a, b]})
        for _ in range(50):
            if term.texts:
                break
            await asyncio.sleep(0.1)
        # The crew accepts and sets off; the terminal then reports from the target's door.
        for status in ("accepted", "en_route"):
            r = await asyncio.to_thread(
                dispatcher.post, f"/api/inspections/{task}/status", {"status": status, "reason": "电话确认"}
            )
            assert r.status_code == 200, r.text
        assert await term.location(setting["lat"] + 0.0002, setting["lon"]) == 0
        await term.close()
        return answer, list(term.texts)

    answer, texts = run_async(terminal_sees_the_task())
    assert answer.status_code == 200, answer.text
    assert phone.lstrip("0") in [p.lstrip("0") for p in answer.json()["notified"]["delivered"]]
    assert len([t for t in texts if f"检查任务{task}：" in t]) == 1  # beside any other open task of the crew

    deadline = time.monotonic() + 20  # the sweep runs every five seconds
    while time.monotonic() < deadline:
        view = dispatcher.get(f"/api/inspections/{task}").json()
        if view["status"] == "on_site":
            break
        time.sleep(0.5)
    assert view["status"] == "on_site"
    assert view["events"][-1]["detail"]["detected"] == "telemetry"

    r = dispatcher.post(f"/api/inspections/{task}/status", {"status": "completed", "reason": "电话确认"})
    assert r.status_code == 400 and "result" in r.json()["detail"]
    r = dispatcher.post(f"/api/inspections/{task}/status", {"status": "completed", "result": "violation"})
    assert r.status_code == 422 and r.json()["violations"][0]["rule"] == "on_behalf_reason"
    r = dispatcher.post(
        f"/api/inspections/{task}/status", {"status": "completed", "result": "violation", "reason": "组长电话报告"}
    )
    assert r.status_code == 200 and r.json()["result"] == "violation"
    assert r.json()["on_behalf"] == ["accepted", "en_route", "completed"]
    r = dispatcher.post(f"/api/inspections/{task}/status", {"status": "accepted", "reason": "x"})
    assert r.status_code == 409
    wait_for(lambda: any(e["id"] == task and e["status"] == "completed" for e in events), what="the completed event")
    listener.disconnect()
    seen = [e["status"] for e in events if e["id"] == task]
    assert seen == ["assigned", "accepted", "en_route", "on_site", "completed"]
    with engine.connect() as c:
        actions = (
            c.execute(text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"), {"s": f"inspection:{task}"})
            .scalars()
            .all()
        )
    assert actions == [
        "inspection_create",
        "inspection_assign",
        "inspection_accepted",
        "inspection_en_route",
        "inspection_completed",
    ]


def test_random_plan_over_the_api_is_published_as_csv(dispatcher, setting, engine, users):
    r = dispatcher.post(
        "/api/plans",
        {
            "name": "测试抽查",
            "seed": "2026-11-25-api",
            "share": 0.002,
            "due_at": DUE.isoformat(),
            "domains": [setting["domain_key"]],
        },
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["drawn"] >= 1
    with engine.connect() as c:
        units = (
            c.execute(
                text(
                    "SELECT DISTINCT o.unit_id FROM inspection i JOIN inspection_officer io ON io.inspection_id = i.id "
                    "JOIN officer o ON o.id = io.officer_id WHERE i.plan_id = :p"
                ),
                {"p": plan["plan_id"]},
            )
            .scalars()
            .all()
        )
    assert set(units) <= {setting["unit_id"]}  # a U001 dispatcher draws U001 inspectors only
    csv = dispatcher.get(f"/api/plans/{plan['plan_id']}.csv")
    assert csv.status_code == 200 and "seed=2026-11-25-api" in csv.text
    assert len(csv.text.strip().splitlines()) == plan["drawn"] + 2  # the seed line, the header, the rows
    assert dispatcher.post("/api/plans", {"seed": "", "share": 0.01}).status_code == 400
    assert dispatcher.post("/api/plans", {"seed": "x", "share": "many"}).status_code == 400
    with engine.connect() as c:
        assert (
            c.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'plan_export' AND actor = :a AND subject = :s"),
                {"a": users["dispatcher"], "s": f"plan:{plan['plan_id']}"},
            ).scalar()
            == 1
        )


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


@pytest.fixture
def crew_officer_account(engine, setting):
    """An officer's own account for the first officer of the setting's crew (removed after)."""
    from geo.access import accounts
    from geo.infra import db

    officer = setting["officers"][0]
    with engine.connect() as c:
        existing = c.execute(text("SELECT username FROM app_user WHERE officer_id = :o"), {"o": officer}).scalar()
        cert = c.execute(text("SELECT cert_no FROM officer WHERE id = :o"), {"o": officer}).scalar_one()
    if existing:
        pytest.fail(f"officer {officer} already has the account {existing}; the test needs one of its own")
    name = f"t-crew-{officer}"
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        accounts.create_user(s, name, PASSWORD, "officer", [], officer_cert=cert)
    yield name
    with engine.begin() as c:
        c.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": name})


def test_the_crew_moves_its_own_task_and_a_desk_user_only_with_a_reason(
    live_app, dispatcher, setting, crew_officer_account, engine
):
    a, b, c = setting["officers"][:3]
    forget_positions(engine, [a, b])  # a crew with no live fix (another test may have left one at the door)
    task = new_task(dispatcher, setting)
    assert dispatcher.post(f"/api/inspections/{task}/assign", {"officer_ids": [a, b]}).status_code == 200
    crew = Client(live_app["url"], crew_officer_account)
    # The officer's own session accepts and sets off: no reason needed, nothing marked.
    assert crew.post(f"/api/inspections/{task}/status", {"status": "accepted"}).status_code == 200
    assert crew.post(f"/api/inspections/{task}/status", {"status": "en_route"}).status_code == 200
    # On site without a crew fix near the target is refused, with its rule, unless he says why.
    r = crew.post(f"/api/inspections/{task}/status", {"status": "on_site"})
    assert r.status_code == 422 and r.json()["violations"][0]["rule"] == "arrival_fix"
    r = crew.post(f"/api/inspections/{task}/status", {"status": "on_site", "reason": "地下商场无定位信号"})
    assert r.status_code == 200 and r.json()["on_behalf"] == []
    # He may not cancel, and another crew's task is not his to see.
    assert crew.post(f"/api/inspections/{task}/status", {"status": "cancelled"}).status_code == 403
    other = new_task(dispatcher, setting)
    assert dispatcher.post(f"/api/inspections/{other}/assign", {"officer_ids": [b, c]}).status_code == 200
    assert crew.post(f"/api/inspections/{other}/status", {"status": "accepted"}).status_code == 404
    # The dispatcher records the completion for the crew only with the reason; it is marked.
    r = dispatcher.post(f"/api/inspections/{task}/status", {"status": "completed", "result": "compliant"})
    assert r.status_code == 422 and r.json()["violations"][0]["rule"] == "on_behalf_reason"
    r = dispatcher.post(
        f"/api/inspections/{task}/status", {"status": "completed", "result": "compliant", "reason": "组长电话报告"}
    )
    assert r.status_code == 200 and r.json()["on_behalf"] == ["completed"]
    assert r.json()["events"][-1]["detail"] == {"result": "compliant", "reason": "组长电话报告", "on_behalf": True}


def test_a_retried_or_double_clicked_creation_makes_one_task(dispatcher, setting, engine):
    body = {"target_id": setting["target_id"], "domain": setting["domain_key"], "due_at": DUE.isoformat()}
    key = {"Idempotency-Key": f"test-{time.time_ns()}"}

    async def twice():
        return await asyncio.gather(
            *(asyncio.to_thread(dispatcher.post, "/api/inspections", body, headers=key) for _ in range(2))
        )

    first, second = run_async(twice())
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    with engine.connect() as c:
        made = c.execute(
            text("SELECT count(*) FROM inspection WHERE request_key = :k"), {"k": key["Idempotency-Key"]}
        ).scalar()
    assert made == 1
    # Without the key, or with another, a second task is made, as asked.
    assert new_task(dispatcher, setting) != first.json()["id"]
    too_long = dispatcher.post("/api/inspections", body, headers={"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 400


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
