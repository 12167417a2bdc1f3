"""Batch assignment and random inspection plans keep every rule, and the random draw is
reproducible from its seed."""

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import text

from geo.dispatch import batch, model, random_plan, registers
from geo.dispatch import crews as dispatch_crews
from geo.dispatch import tasks as dispatch_tasks
from geo.infra.timezone import BEIJING

DUE = dt.datetime.now(BEIJING).replace(hour=16, minute=0, second=0, microsecond=0)


def make_tasks(session, n=30):
    rows = session.execute(
        text(
            """SELECT t.id, t.domains[1] FROM target t
           WHERE EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = t.domains[1])
           ORDER BY t.id LIMIT :n"""
        ),
        {"n": n},
    ).all()
    return [
        dispatch_tasks.create_task(session, target_id=t, domain_key=d, due_at=DUE, actor="t-dispatcher", source="bulk")
        for t, d in rows
    ]


def test_batch_plan_is_lawful_within_caps_and_optimal(session):
    tasks = make_tasks(session)
    plan = batch.plan_batch(session, tasks)
    assert plan.assignments, "the seeded district must staff some of thirty tasks"
    assert len(plan.assignments) + len(plan.unassigned) == len(tasks)
    load = Counter()
    for a in plan.assignments:
        task = model.load_task(session, a["inspection_id"])
        pool = dispatch_crews.officer_pool(session, task, a["officer_ids"])
        assert dispatch_crews.crew_violations(task, pool, a["officer_ids"], joint=False) == []
        load.update(a["officer_ids"])
    caps = dict(session.execute(text("SELECT id, daily_task_cap FROM officer")).all())
    assert all(n <= caps[o] for o, n in load.items())
    exact, exact_assigned = batch.exact_total(plan.problem)
    assert exact_assigned == len(plan.assignments)
    assert plan.total_travel_m == pytest.approx(exact, rel=1e-9)
    # Never fewer tasks staffed than greedy, and never more travel over the tasks greedy staffed.
    assert len(plan.assignments) >= plan.greedy["assigned"]
    same_tasks, _ = batch.exact_total(plan.problem, plan.greedy["staffed"])
    assert same_tasks <= plan.greedy["total_travel_m"] + 1e-6
    result = batch.commit_plan(session, plan.assignments, "t-dispatcher")
    assert sorted(result["assigned"]) == sorted(a["inspection_id"] for a in plan.assignments)
    assert result["failed"] == []
    events = session.execute(
        text(
            "SELECT count(*) FROM inspection_event WHERE to_status = 'assigned' AND detail->>'via' = 'batch' "
            "AND inspection_id = ANY(:t)"
        ),
        {"t": tasks},
    ).scalar()
    assert events == len(plan.assignments)


def test_batch_never_sends_a_recused_or_off_duty_officer(session):
    tasks = make_tasks(session, 10)
    first = batch.plan_batch(session, tasks)
    a = first.assignments[0]
    recused_officer, off_duty = a["officer_ids"]
    target = model.load_task(session, a["inspection_id"]).target_id
    registers.recuse(session, recused_officer, target, "其配偶为该企业股东", "t-admin")
    session.execute(text("UPDATE officer SET duty_state = 'off_duty' WHERE id = :o"), {"o": off_duty})
    again = batch.plan_batch(session, tasks)
    for b in again.assignments:
        assert off_duty not in b["officer_ids"]
        if model.load_task(session, b["inspection_id"]).target_id == target:
            assert recused_officer not in b["officer_ids"]


def test_committing_a_stale_plan_reports_the_tasks_taken_meanwhile(session):
    tasks = make_tasks(session, 5)
    plan = batch.plan_batch(session, tasks)
    taken = plan.assignments[0]
    dispatch_tasks.assign(session, taken["inspection_id"], taken["officer_ids"], "t-other")
    result = batch.commit_plan(session, plan.assignments, "t-dispatcher")
    assert [f["inspection_id"] for f in result["failed"]] == [taken["inspection_id"]]
    assert len(result["assigned"]) == len(plan.assignments) - 1


def test_allocation_adds_up_to_the_share():
    assert random_plan.allocate([10, 10, 10], 0.05) == [1, 1, 0]
    assert sum(random_plan.allocate([123, 45, 9, 300], 0.1)) == round(0.1 * 477)
    assert random_plan.allocate([5, 5], 1.0) == [5, 5]


def drawn(session, plan_id):
    return [(r["target"], r["inspectors"]) for r in random_plan.plan_rows(session, plan_id)]


def test_random_plan_is_reproducible_stratified_and_lawful(session):
    kwargs = dict(
        name="2026年第四季度市场监管双随机抽查",
        seed="binhai-2026Q4-market",
        share=0.05,
        due_at=DUE,
        actor="t-dispatcher",
        domains=["market_regulation"],
    )
    first = session.begin_nested()
    a = random_plan.draw(session, **kwargs)
    rows_a = drawn(session, a["plan_id"])
    first.rollback()
    b = random_plan.draw(session, **kwargs)
    rows_b = drawn(session, b["plan_id"])
    assert rows_a == rows_b and len(rows_a) == a["drawn"]
    population = session.execute(
        text("SELECT count(*) FROM target WHERE 'market_regulation' = ANY(domains) AND township_code IS NOT NULL")
    ).scalar()
    assert b["drawn"] == round(0.05 * population) and b["population"] == population
    other = random_plan.draw(session, **{**kwargs, "seed": "another-seed"})
    assert drawn(session, other["plan_id"]) != rows_b
    for task_id in session.execute(
        text("SELECT id FROM inspection WHERE plan_id = :p AND status = 'assigned'"), {"p": b["plan_id"]}
    ).scalars():
        task = model.load_task(session, task_id)
        pool = dispatch_crews.officer_pool(session, task, task.officers)
        # Each officer's count now includes this task; the rule held when he was drawn.
        for officer in pool:
            assert set(dispatch_crews.violations(officer, ignore_current=True)) == set()
    csv_text = random_plan.plan_csv(session, b["plan_id"])
    assert "binhai-2026Q4-market" in csv_text.splitlines()[0]
    assert csv_text.splitlines()[1].startswith("序号,检查对象")
    assert len(csv_text.splitlines()) == 2 + b["drawn"]


def test_a_second_draw_does_not_send_the_same_inspector_again(session):
    town = session.execute(
        text(
            "SELECT township_code FROM target WHERE township_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar()
    kwargs = dict(
        name="复查", seed="same-seed", share=1.0, due_at=DUE, actor="t-dispatcher", townships=[town], risks=[4]
    )
    first = random_plan.draw(session, **kwargs)
    second = random_plan.draw(session, **kwargs)
    crews = {}
    for plan in (first, second):
        for target_id, officer_id in session.execute(
            text(
                "SELECT i.target_id, io.officer_id FROM inspection i JOIN inspection_officer io "
                "ON io.inspection_id = i.id WHERE i.plan_id = :p"
            ),
            {"p": plan["plan_id"]},
        ):
            crews.setdefault((plan["plan_id"], target_id), set()).add(officer_id)
    repeated = [
        t
        for (p, t), officers in crews.items()
        if p == second["plan_id"] and officers & crews.get((first["plan_id"], t), set())
    ]
    assert first["assigned"] > 0 and repeated == []
