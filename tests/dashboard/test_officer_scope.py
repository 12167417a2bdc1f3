"""Officers see their own (issue 33, item 4): an officer's task list holds the tasks he is crew
on, his devices' tracks are his alone, and he receives the live positions of his crew while on a
task together, never a colleague's, over REST and over the live socket; a reviewer sees no task
and no position, and the cases sent to review only."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import text

from tests.dashboard.test_live import api, listener
from tests.webutil import jt808_report, wait_for

pytestmark = pytest.mark.usefixtures("users")


def officer_of(c, username: str) -> int:
    return c.execute(text("SELECT officer_id FROM app_user WHERE username = :u"), {"u": username}).scalar_one()


def jt808_of(c, officer: int) -> tuple[int, str]:
    """The officer's JT/T 808 device (a body camera), made for the test if he has none."""
    row = c.execute(
        text("SELECT id, identifier FROM device WHERE officer_id = :o AND protocol = 'jt808' ORDER BY id LIMIT 1"),
        {"o": officer},
    ).first()
    if row is None:
        phone = f"0139{officer:08d}"[-12:]
        row = c.execute(
            text(
                "INSERT INTO device (kind, protocol, identifier, officer_id) VALUES ('body_camera', 'jt808', :i, :o) "
                "RETURNING id, identifier"
            ),
            {"i": phone, "o": officer},
        ).one()
    return int(row[0]), str(row[1])


def task_for(c, crew: list[int]) -> int:
    unit = c.execute(text("SELECT id FROM enforcement_unit WHERE code = 'U001'")).scalar_one()
    task = c.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, status, unit_id, created_by, assigned_at) "
            "SELECT t.id, 'market_regulation', 'api', now() + interval '3 hours', 'assigned', :u, 'test', now() "
            "FROM target t WHERE t.kind = 'entity' ORDER BY t.id LIMIT 1 RETURNING id"
        ),
        {"u": unit},
    ).scalar_one()
    for officer in crew:
        c.execute(text("INSERT INTO inspection_officer VALUES (:i, :o, CURRENT_DATE)"), {"i": task, "o": officer})
    return int(task)


@pytest.fixture
def crews(engine):
    """t-officer on a task with t-officer2; a colleague of their unit on another task with t-officer2."""
    with engine.begin() as c:
        me, mate = officer_of(c, "t-officer"), officer_of(c, "t-officer2")
        colleague = c.execute(
            text(
                "SELECT o.id FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = 'U001' "
                "AND o.id NOT IN (:a, :b) AND current_date BETWEEN o.cert_valid_from AND o.cert_valid_to "
                "ORDER BY o.id LIMIT 1"
            ),
            {"a": me, "b": mate},
        ).scalar_one()
        ours, theirs = task_for(c, [me, mate]), task_for(c, [mate, colleague])
        devices = {who: jt808_of(c, officer) for who, officer in (("me", me), ("mate", mate), ("colleague", colleague))}
    yield {
        "ours": ours,
        "theirs": theirs,
        "devices": devices,
        "officers": {"me": me, "mate": mate, "colleague": colleague},
    }
    with engine.begin() as c:  # the tasks end, so the crews part
        c.execute(text("UPDATE inspection SET status = 'cancelled' WHERE id IN (:a, :b)"), {"a": ours, "b": theirs})


def test_an_officer_lists_his_own_tasks_and_reads_his_own_tracks(live_app, crews):
    url = live_app["url"]
    listed = api(url, "t-officer", "/api/inspections", params={"status": "all", "limit": 1000}).json()["inspections"]
    ids = {t["id"] for t in listed}
    assert crews["ours"] in ids and crews["theirs"] not in ids
    assert all(crews["officers"]["me"] in t["officers"] for t in listed)  # every one is his
    assert api(url, "t-officer", f"/api/inspections/{crews['theirs']}").status_code == 404
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    own, mate, colleague = (crews["devices"][k][0] for k in ("me", "mate", "colleague"))
    assert api(url, "t-officer", f"/api/devices/{own}/track", params={"start": start}).status_code == 200
    for other in (mate, colleague):  # where a colleague was is not his to read, crew-mate or not
        assert api(url, "t-officer", f"/api/devices/{other}/track", params={"start": start}).status_code == 404
    assert api(url, "t-dispatcher", f"/api/devices/{colleague}/track", params={"start": start}).status_code == 200
    officers = {o["id"] for o in api(url, "t-officer", "/api/officers").json()["officers"]}
    assert {crews["officers"]["me"], crews["officers"]["mate"]} <= officers
    assert crews["officers"]["colleague"] not in officers
    devices = {d["id"] for d in api(url, "t-officer", "/api/devices").json()["devices"]}
    assert own in devices and mate in devices and colleague not in devices


def test_a_reviewer_sees_no_task_no_position_and_only_cases_sent_to_review(live_app, crews, engine):
    url = live_app["url"]
    for reviewer in ("t-legal_reviewer", "t-case_reviewer", "t-hearing_officer"):
        assert api(url, reviewer, "/api/inspections").json()["inspections"] == []
        assert api(url, reviewer, "/api/officers").json()["officers"] == []
        assert api(url, reviewer, f"/api/inspections/{crews['ours']}").status_code == 404
    with engine.connect() as c:
        unreviewed = c.execute(
            text(
                "SELECT e.id FROM enf_case e JOIN enforcement_unit u ON u.id = e.unit_id WHERE u.code = 'U001' "
                "AND NOT EXISTS (SELECT 1 FROM case_review r WHERE r.case_id = e.id) LIMIT 1"
            )
        ).scalar()
    cases = api(url, "t-case_reviewer", "/api/cases", params={"status": "all"}).json()
    with engine.connect() as c:
        for case in cases["cases"]:
            assert c.execute(text("SELECT 1 FROM case_review WHERE case_id = :c"), {"c": case["id"]}).first()
    if unreviewed is not None:
        assert api(url, "t-case_reviewer", f"/api/cases/{unreviewed}").status_code == 404


def test_the_live_socket_gives_an_officer_his_crew_and_never_a_colleague(live_app, crews, users):
    url = live_app["url"]
    officer, seen = listener(url, "t-officer")
    dispatcher, seen_desk = listener(url, users["dispatcher"])
    mate, colleague = crews["devices"]["mate"], crews["devices"]["colleague"]
    try:
        jt808_report(live_app["jt808"], colleague[1], 39.03, 117.66)  # first: pushed before the mate's
        wait_for(lambda: colleague[0] in {r[0] for _, rows in seen_desk["positions"] for r in rows}, what="desk")
        step = [0]

        def crew_mate_seen() -> bool:
            if mate[0] in {r[0] for _, rows in seen["positions"] for r in rows}:
                return True
            step[0] += 1  # a fresh fix (one per second at most is kept) until the crew is known
            jt808_report(live_app["jt808"], mate[1], 39.04 + step[0] * 1e-4, 117.67)
            time.sleep(1.0)
            return False

        wait_for(crew_mate_seen, interval=0.1, what="the crew-mate's position on the officer's socket")
        assert colleague[0] not in {r[0] for _, rows in seen["positions"] for r in rows}
    finally:
        officer.disconnect()
        dispatcher.disconnect()
