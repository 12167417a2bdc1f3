"""Dispatch rules on the real database: every eligibility rule on recommendation and manual
assignment, overrides, the lifecycle with its audit, arrival from telemetry, and the
concurrency guarantee with parallel transactions."""

import datetime as dt
import threading

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch import arrivals, batch, crews, model, tasks
from geo.infra import errors
from geo.infra.timezone import BEIJING
from geo.places.distance import haversine_m

NOON = dt.datetime.now(BEIJING).replace(hour=12, minute=0, second=0, microsecond=0)


def find_setting(session, min_officers=3):
    """A target and domain for which one unit has at least min_officers lawful officers."""
    row = (
        session.execute(
            text(
                """
        SELECT t.id AS target_id, p.domain_key, o.unit_id, array_agg(DISTINCT o.id ORDER BY o.id) AS officers
        FROM target t
        JOIN officer_area a ON a.township_code = t.township_code
        JOIN officer o ON o.id = a.officer_id AND o.duty_state = 'on_duty'
             AND o.cert_valid_from <= CURRENT_DATE AND o.cert_valid_to >= CURRENT_DATE + 2
        JOIN power_item p ON p.unit_id = o.unit_id AND p.domain_key = ANY(t.domains)
        WHERE t.id < 400
        GROUP BY 1, 2, 3 HAVING count(DISTINCT o.id) >= :n
        ORDER BY count(DISTINCT o.id) DESC, 1 LIMIT 1
        """
            ),
            {"n": min_officers},
        )
        .mappings()
        .one()
    )
    return dict(row)


@pytest.fixture
def setting(session):
    s = find_setting(session)
    s["task"] = tasks.create_task(
        session, target_id=s["target_id"], domain_key=s["domain_key"], due_at=NOON, actor="t-dispatcher", source="map"
    )
    return s


def rules_of(violations, officer_id):
    return {v["rule"] for v in violations if v.get("officer_id") == officer_id}


def test_candidates_are_lawful_crews_with_reasons(session, setting):
    result = crews.candidates(session, setting["task"])
    assert result["crews"], "a unit with three lawful officers must yield a crew"
    for crew in result["crews"]:
        assert len(crew["officers"]) == 2 and len({crew["unit_id"]}) == 1
        assert crew["reasons"] and crew["travel_m"] >= 0
    ids = {o["id"] for c in result["crews"] for o in c["officers"]}
    for e in result["excluded"]:
        assert e["officer_id"] not in ids and e["rules"] and e["reasons"]


BREAKERS = {
    "off_duty": "UPDATE officer SET duty_state = 'off_duty' WHERE id = :o",
    "certificate": (
        "UPDATE officer SET cert_valid_from = CURRENT_DATE - 400, cert_valid_to = CURRENT_DATE - 1 WHERE id = :o"
    ),
    "area": "DELETE FROM officer_area WHERE officer_id = :o",
    "recused": "INSERT INTO recusal (officer_id, target_id, reason, created_by) VALUES (:o, :t, '亲属经营', 'test')",
    "daily_cap": "UPDATE officer SET daily_task_cap = 1 WHERE id = :o",
}


@pytest.mark.parametrize("rule", [*BREAKERS, "unit_power"])
def test_each_rule_excludes_on_recommendation_and_refuses_manual_assignment(session, setting, rule):
    a, b, c = setting["officers"][:3]
    if rule == "unit_power":
        # Move officer a to a unit without this domain (keeping his area, duty and certificate).
        other = session.execute(
            text(
                "SELECT id FROM enforcement_unit u WHERE NOT EXISTS (SELECT 1 FROM power_item p "
                "WHERE p.unit_id = u.id AND p.domain_key = :d) LIMIT 1"
            ),
            {"d": setting["domain_key"]},
        ).scalar_one()
        session.execute(text("UPDATE officer SET unit_id = :u WHERE id = :o"), {"u": other, "o": a})
    else:
        session.execute(text(BREAKERS[rule]), {"o": a, "t": setting["target_id"]})
    if rule == "daily_cap":  # one task already today fills a cap of one
        other_task = tasks.create_task(
            session, target_id=setting["target_id"], domain_key=setting["domain_key"], due_at=NOON, actor="t-dispatcher"
        )
        tasks.assign(session, other_task, [a, c], "t-dispatcher")
    result = crews.candidates(session, setting["task"])
    assert a not in {o["id"] for crew in result["crews"] for o in crew["officers"]}
    excluded = {e["officer_id"]: e["rules"] for e in result["excluded"]}
    assert rule in excluded[a]
    if rule == "daily_cap":
        with pytest.raises(model.Conflict, match="daily task cap"):
            tasks.assign(session, setting["task"], [a, b], "t-dispatcher")
    else:
        with pytest.raises(model.Refused) as refused:
            tasks.assign(session, setting["task"], [a, b], "t-dispatcher")
        assert rules_of(refused.value.violations, a) == {rule}
        assert rules_of(refused.value.violations, b) == set()
    assert model.load_task(session, setting["task"]).status == "created"


def test_a_crew_needs_two_officers_of_one_unit(session, setting):
    a = setting["officers"][0]
    with pytest.raises(model.Refused) as refused:
        tasks.assign(session, setting["task"], [a], "t-dispatcher")
    assert {v["rule"] for v in refused.value.violations} == {"crew_size"}
    with pytest.raises(model.DispatchError, match="at least two"):
        tasks.create_task(
            session,
            target_id=setting["target_id"],
            domain_key=setting["domain_key"],
            due_at=NOON,
            actor="x",
            crew_size=1,
        )
    # An officer of another unit holding the domain, made lawful on his own for this target,
    # makes a mixed crew: refused unless the task is declared joint.
    other = session.execute(
        text(
            """SELECT o.id FROM officer o JOIN power_item p ON p.unit_id = o.unit_id AND p.domain_key = :d
           WHERE o.unit_id <> :u ORDER BY o.id LIMIT 1"""
        ),
        {"d": setting["domain_key"], "u": setting["unit_id"]},
    ).scalar_one()
    session.execute(
        text(
            "UPDATE officer SET duty_state = 'on_duty', cert_valid_from = CURRENT_DATE - 10, "
            "cert_valid_to = CURRENT_DATE + 100 WHERE id = :o"
        ),
        {"o": other},
    )
    session.execute(
        text(
            "INSERT INTO officer_area (officer_id, township_code) SELECT :o, township_code FROM target "
            "WHERE id = :t ON CONFLICT DO NOTHING"
        ),
        {"o": other, "t": setting["target_id"]},
    )
    with pytest.raises(model.Refused) as refused:
        tasks.assign(session, setting["task"], [a, other], "t-dispatcher")
    assert {v["rule"] for v in refused.value.violations} == {"one_unit"}
    task = tasks.assign(session, setting["task"], [a, other], "t-dispatcher", joint=True)
    assert task.status == "assigned" and task.joint


def test_override_with_a_reason_is_allowed_and_audited(session, setting):
    a, b = setting["officers"][:2]
    session.execute(text(BREAKERS["off_duty"]), {"o": a})
    with pytest.raises(model.Refused):
        tasks.assign(session, setting["task"], [a, b], "t-admin", override_reason="  ")
    task = tasks.assign(session, setting["task"], [a, b], "t-admin", override_reason="紧急情况，临时召回")
    assert task.status == "assigned" and task.officers == sorted([a, b])
    detail = session.execute(
        text("SELECT detail FROM audit_log WHERE action = 'inspection_override' AND subject = :s"),
        {"s": f"inspection:{setting['task']}"},
    ).scalar_one()
    assert detail["reason"] == "紧急情况，临时召回" and detail["rules"][0]["rule"] == "off_duty"


def test_lifecycle_is_timestamped_audited_and_guarded(session, setting):
    a, b = setting["officers"][:2]
    tid = setting["task"]
    with pytest.raises(model.Conflict):
        tasks.transition(session, tid, "accepted", "t-x")  # not assigned yet
    tasks.assign(session, tid, [a, b], "t-dispatcher")
    with pytest.raises(model.Conflict, match="can no longer be assigned"):
        tasks.assign(session, tid, [a, b], "t-dispatcher")
    # A desk user records a crew's status only with a reason, and it is marked so.
    with pytest.raises(errors.Refused) as refused:
        tasks.transition(session, tid, "accepted", "t-dispatcher")
    assert refused.value.violations[0]["rule"] == "on_behalf_reason"
    tasks.transition(session, tid, "accepted", "t-dispatcher", reason="组长电话确认接单")
    tasks.transition(session, tid, "en_route", "t-officer", officer_id=a)  # the crew itself
    # On site needs a crew fix near the target (none here), or the reason.
    with pytest.raises(errors.Refused) as refused:
        tasks.transition(session, tid, "on_site", "t-officer", officer_id=a)
    assert refused.value.violations[0]["rule"] == "arrival_fix"
    tasks.transition(session, tid, "on_site", "t-officer", officer_id=a, reason="楼内无定位信号")
    with pytest.raises(model.DispatchError, match="needs a result"):
        tasks.transition(session, tid, "completed", "t-officer", officer_id=a)
    tasks.transition(session, tid, "completed", "t-officer", result="violation", comment="无证经营", officer_id=a)
    view = tasks.task_view(session, tid)
    assert view["status"] == "completed" and view["result"] == "violation"
    assert view["on_behalf"] == ["accepted"]
    assert [e["detail"].get("on_behalf") for e in view["events"][2:]] == [True, None, None, None]
    # The database holds it too: nothing is completed without having been on site.
    with pytest.raises(sa_exc.IntegrityError), session.begin_nested():
        session.execute(text("UPDATE inspection SET on_site_at = NULL WHERE id = :i"), {"i": tid})
    assert [e["to"] for e in view["events"]] == ["created", "assigned", "accepted", "en_route", "on_site", "completed"]
    stamps = [
        view[k] for k in ("created_at", "assigned_at", "accepted_at", "en_route_at", "on_site_at", "completed_at")
    ]
    assert all(stamps) and stamps == sorted(stamps)
    actions = set(
        session.execute(text("SELECT action FROM audit_log WHERE subject = :s"), {"s": f"inspection:{tid}"}).scalars()
    )
    assert {"inspection_create", "inspection_assign", "inspection_accepted", "inspection_completed"} <= actions


def test_declined_tasks_can_be_reassigned(session, setting):
    a, b, c = setting["officers"][:3]
    tid = setting["task"]
    tasks.assign(session, tid, [a, b], "t-dispatcher")
    tasks.transition(session, tid, "declined", "t-officer", comment="车辆故障", officer_id=a)
    task = tasks.assign(session, tid, [b, c], "t-dispatcher")
    assert task.status == "assigned" and task.officers == sorted([b, c])


def test_arrival_is_detected_from_the_crews_telemetry(session, setting):
    a, b = setting["officers"][:2]
    tid = setting["task"]
    tasks.assign(session, tid, [a, b], "t-dispatcher")
    tasks.transition(session, tid, "accepted", "t-officer", officer_id=a)
    lon, lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM target WHERE id = :t"), {"t": setting["target_id"]}
    ).one()
    device = session.execute(text("SELECT id FROM device WHERE officer_id = :o LIMIT 1"), {"o": a}).scalar_one()

    def place(dlat):
        session.execute(
            text(
                """INSERT INTO device_state (device_id, fix_time, last_seen, geom, state)
               VALUES (:d, now(), now(), ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'online')
               ON CONFLICT (device_id) DO UPDATE SET geom = EXCLUDED.geom, state = 'online'"""
            ),
            {"d": device, "x": lon, "y": lat + dlat},
        )

    place(0.01)  # about 1.1 km away
    assert arrivals.detect_arrivals(session) == []
    place(0.0005)  # about 55 m away
    assert arrivals.detect_arrivals(session) == [tid]
    view = tasks.task_view(session, tid)
    assert view["status"] == "on_site" and view["events"][-1]["actor"] == "system"


@pytest.fixture
def committed(engine):
    """A committed task (and cleanup) for tests that race real transactions."""
    with Session(engine) as s, s.begin():
        setting = find_setting(s)
        setting["tasks"] = [
            tasks.create_task(
                s, target_id=setting["target_id"], domain_key=setting["domain_key"], due_at=NOON, actor="t-dispatcher"
            )
            for _ in range(2)
        ]
        caps = dict(
            s.execute(
                text("SELECT id, daily_task_cap FROM officer WHERE id = ANY(:i)"), {"i": setting["officers"]}
            ).all()
        )
    yield setting
    with Session(engine) as s, s.begin():
        s.execute(text("DELETE FROM inspection WHERE id = ANY(:t)"), {"t": setting["tasks"]})
        for oid, cap in caps.items():
            s.execute(text("UPDATE officer SET daily_task_cap = :c WHERE id = :o"), {"c": cap, "o": oid})


def race(engine, jobs):
    """Run each job in its own transaction, all released at the same moment."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def run(i, job):
        with Session(engine) as s:
            try:
                with s.begin():
                    barrier.wait()
                    job(s)
                outcomes[i] = "ok"
            except (model.Conflict, model.Refused) as exc:
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_dispatchers_assigning_one_task_exactly_one_wins(engine, committed):
    a, b, c = committed["officers"][:3]
    tid = committed["tasks"][0]
    outcomes = race(
        engine, [lambda s: tasks.assign(s, tid, [a, b], "t-d1"), lambda s: tasks.assign(s, tid, [b, c], "t-d2")]
    )
    assert outcomes.count("ok") == 1
    loser = next(o for o in outcomes if o != "ok")
    assert isinstance(loser, model.Conflict) and "assigned" in str(loser)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM inspection_officer WHERE inspection_id = :t"), {"t": tid}).scalar()
            == 2
        )


def test_one_officer_at_his_cap_cannot_be_given_two_tasks_at_once(engine, committed):
    a, b, c = committed["officers"][:3]
    with engine.begin() as conn:
        conn.execute(text("UPDATE officer SET daily_task_cap = 1 WHERE id = :o"), {"o": a})
    t1, t2 = committed["tasks"]
    outcomes = race(
        engine, [lambda s: tasks.assign(s, t1, [a, b], "t-d1"), lambda s: tasks.assign(s, t2, [a, c], "t-d2")]
    )
    assert outcomes.count("ok") == 1
    loser = next(o for o in outcomes if o != "ok")
    assert isinstance(loser, model.Conflict) and "daily task cap" in str(loser)


def test_travel_comes_from_live_positions_else_the_township_centre_alike_in_batch(session):
    setting = find_setting(session, min_officers=4)
    task = tasks.create_task(
        session, target_id=setting["target_id"], domain_key=setting["domain_key"], due_at=NOON, actor="t", source="map"
    )
    # Nobody of the unit has a live position: every estimate is from the township centre.
    session.execute(
        text("DELETE FROM device_state WHERE device_id IN (SELECT id FROM device WHERE officer_id = ANY(:o))"),
        {"o": setting["officers"]},
    )
    result = crews.candidates(session, task)
    ours = [c for c in result["crews"] if c["unit_id"] == setting["unit_id"]]
    assert len(ours) >= 2, "four lawful officers of one unit make two crews"
    crew = ours[0]
    assert crew["travel_estimate"] == "township" and "按所在街镇中心估算" in crew["reasons"][0]
    target = model.load_task(session, task)
    for o in crew["officers"]:
        lon, lat = session.execute(
            text(
                "SELECT ST_X(w.centre), ST_Y(w.centre) FROM officer_area a JOIN township w ON w.code = a.township_code "
                "WHERE a.officer_id = :o ORDER BY a.township_code LIMIT 1"
            ),
            {"o": o["id"]},
        ).one()
        assert (o["lon"], o["lat"], o["position_source"]) == (lon, lat, "township")
        assert o["distance_m"] == round(haversine_m(lon, lat, target.lon, target.lat))
    assert crew["travel_m"] < 50_000  # not a placeholder per officer
    # The batch plan places every officer where the recommendation does.
    _, batch_officers = batch.build_crews(session, NOON.date())
    for o in crew["officers"]:
        assert (batch_officers[o["id"]]["lon"], batch_officers[o["id"]]["lat"]) == (o["lon"], o["lat"])
    # A live fix replaces the estimate for that officer, in both.
    first = crew["officers"][0]["id"]
    device = session.execute(text("SELECT id FROM device WHERE officer_id = :o LIMIT 1"), {"o": first}).scalar_one()
    session.execute(
        text(
            "INSERT INTO device_state (device_id, fix_time, geom, last_seen, state) "
            "VALUES (:d, now(), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), now(), 'online')"
        ),
        {"d": device, "lon": target.lon + 0.001, "lat": target.lat},
    )
    live = next(o for c in crews.candidates(session, task)["crews"] for o in c["officers"] if o["id"] == first)
    assert live["position_source"] == "live" and live["distance_m"] < 200
    assert batch.build_crews(session, NOON.date())[1][first]["position_source"] == "live"
