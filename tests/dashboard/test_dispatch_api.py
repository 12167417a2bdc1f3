"""Dispatch over the REST API on a real server: tasks, candidates, refusals naming the rule,
scope, parallel requests racing for one task, the lifecycle pushed live, the crew's JT/T 808
terminal receiving the task (0x8300), arrival detected from its telemetry, random plans; and
the dispatcher page in Chromium."""

import asyncio
import datetime as dt
import threading
import time

import requests
import socketio
from sqlalchemy import text

from geo.infra.timezone import BEIJING
from tests.conftest import PASSWORD
from tests.webutil import run_async, terminal, wait_for

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
        term = terminal(phone, live_app["jt808"])
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
