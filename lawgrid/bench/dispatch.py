"""Dispatch at district scale, in a database of its own: N officers (3,000 of them on duty,
each with a live position inside his area), a registry of targets and T open tasks.

Figures: the p95 latency of one recommendation (ranked lawful crews with reasons and
exclusions) beside the bare eligibility SQL behind it; the batch plan's time for all T tasks;
its total travel against the exact optimum of the same pruned problem solved by a dense
Hungarian method (ratio 1.0 expected) and against a greedy nearest-first plan; and, on a
smaller problem, what pruning to the k nearest crews costs against the optimum over every
crew, with how many tasks the cap pruned at all (and the same at k = 3, where it bites).
Every figure is reproducible from --seed: officers' positions come from a hash of the seed,
not SQL random()."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

import numpy as np
import psycopg
from sqlalchemy import text

from demo.seed import seed_organisation, seed_targets
from geo.dispatch import batch, crews, model
from geo.dispatch import tasks as dispatch_tasks
from geo.infra import db
from geo.infra.timezone import BEIJING
from geo.places.reference import load_reference
from lawgrid.bench import bench_database, psycopg_sql
from lawgrid.runtime import REFERENCE_DIR

ON_DUTY = 3_000
SAMPLES = 200
K = 25  # plan_batch's default: the nearest lawful crews kept per task
PRUNE_TASKS = 150
TIGHT_K = 3  # a cap that prunes most tasks' candidates, to show what pruning can cost


def _log(msg: str) -> None:
    print(f"[bench dispatch] {msg}", file=sys.stderr, flush=True)


def prepare(session, officers: int, tasks: int, targets: int, seed: int) -> list[int]:
    load_reference(session, REFERENCE_DIR)
    seed_organisation(session, officers=officers, seed=3)
    seed_targets(session, targets=targets, seed=seed, progress=False)
    # Exactly ON_DUTY officers on duty, each reporting from a point near the centre of his first area.
    session.execute(
        text(
            """UPDATE officer SET duty_state = CASE WHEN id IN (
               SELECT id FROM officer ORDER BY md5(id::text || :s) LIMIT :n) THEN 'on_duty' ELSE 'off_duty' END,
               cert_valid_from = CURRENT_DATE - 100, cert_valid_to = CURRENT_DATE + 365"""
        ),
        {"n": ON_DUTY, "s": str(seed)},
    )
    # A uniform number in [0, 1) from the device and the seed: two runs with one seed place
    # every officer at the same spot, so they plan the same problem (SQL random() did not).
    session.execute(
        text(
            """CREATE OR REPLACE FUNCTION pg_temp.lawgrid_bench_u(id bigint, salt text) RETURNS float8
           LANGUAGE sql IMMUTABLE AS
           $$ SELECT ('x' || substr(md5(id::text || salt), 1, 8))::bit(32)::bigint / 4294967296.0 $$"""
        )
    )
    session.execute(
        text(
            """INSERT INTO device_state (device_id, fix_time, last_seen, geom, state)
           SELECT DISTINCT ON (d.officer_id) d.id, now(), now(),
                  ST_SetSRID(ST_MakePoint(ST_X(w.centre) + (pg_temp.lawgrid_bench_u(d.id, :s || 'x') - 0.5) * 0.06,
                                          ST_Y(w.centre) + (pg_temp.lawgrid_bench_u(d.id, :s || 'y') - 0.5) * 0.04),
                             4326), 'online'
           FROM device d JOIN officer o ON o.id = d.officer_id AND o.duty_state = 'on_duty'
           JOIN LATERAL (SELECT township_code FROM officer_area a WHERE a.officer_id = o.id
                         ORDER BY township_code LIMIT 1) a ON true
           JOIN township w ON w.code = a.township_code
           ORDER BY d.officer_id, d.id"""
        ),
        {"s": str(seed)},
    )
    rows = session.execute(
        text(
            """SELECT t.id, t.domains[1] FROM target t
           WHERE EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = t.domains[1])
           ORDER BY md5(t.id::text || :s) LIMIT :n"""
        ),
        {"n": tasks, "s": str(seed)},
    ).all()
    due = dt.datetime.now(BEIJING).replace(hour=17, minute=0, second=0, microsecond=0)
    ids = [
        dispatch_tasks.create_task(session, target_id=t, domain_key=d, due_at=due, actor="bench", source="bulk")
        for t, d in rows
    ]
    session.execute(text("ANALYZE"))
    return ids


def run(runtime, args) -> dict:
    officers, tasks = args.officers, args.tasks
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    _log(f"seeding {officers:,} officers, {args.targets:,} targets and {tasks:,} tasks")
    with db.session_scope(sessions) as s:
        task_ids = prepare(s, officers, tasks, args.targets, args.seed)

    rng = np.random.default_rng(args.seed)
    sample = [int(i) for i in rng.choice(task_ids, size=min(SAMPLES, len(task_ids)), replace=False)]
    ours, bare = [], []
    pool_sql = crews.POOL_SQL.format(
        where="(o.unit_id IN (SELECT unit_id FROM power_item WHERE domain_key = :domain) "
        "OR o.id IN (SELECT officer_id FROM officer_area WHERE township_code = :township))"
    )
    pool_sql = psycopg_sql(pool_sql)
    _log(f"timing {len(sample)} recommendations")
    with (
        db.session_scope(sessions) as s,
        psycopg.connect(db.raw_psycopg_url(engine), options=db.SESSION_OPTIONS) as raw,
    ):
        crews_found = 0
        for task_id in sample:
            t0 = time.perf_counter()
            result = crews.candidates(s, task_id)
            ours.append((time.perf_counter() - t0) * 1000)
            crews_found += bool(result["crews"])
            task = model.load_task(s, task_id)
            t1 = time.perf_counter()
            raw.execute(
                pool_sql,
                dict(
                    township=task.township_code,
                    domain=task.domain_key,
                    items=task.items,
                    due_day=task.due_day,
                    target=task.target_id,
                    units=None,
                    max_excluded=200,
                ),
            ).fetchall()
            bare.append((time.perf_counter() - t1) * 1000)

    _log("planning the batch")
    with db.session_scope(sessions) as s:
        t0 = time.perf_counter()
        plan = batch.plan_batch(s, task_ids)
        batch_s = time.perf_counter() - t0
        assert plan.problem is not None and plan.greedy is not None
        t1 = time.perf_counter()
        exact, exact_assigned = batch.exact_total(plan.problem)
        exact_s = time.perf_counter() - t1
        # The optimum over exactly the tasks the greedy plan staffed: a like-for-like comparison.
        same_as_greedy, _ = batch.exact_total(plan.problem, plan.greedy["staffed"])
        on_duty = s.execute(text("SELECT count(*) FROM officer WHERE duty_state = 'on_duty'")).scalar()
        # What pruning to the k nearest crews costs: on a smaller problem (the first
        # PRUNE_TASKS tasks), the pruned plan beside the optimum over every lawful crew.
        few = task_ids[:PRUNE_TASKS]
        _log(f"pruning check: {len(few)} tasks, k={K} against every crew")
        pruned = batch.plan_batch(s, few, k=K)
        unpruned = batch.plan_batch(s, few, k=pruned.crews or 1)
        # Where the cap bites harder: only the TIGHT_K nearest kept.
        tight = batch.plan_batch(s, few, k=TIGHT_K)
        s.rollback()
    engine.dispose()
    greedy = plan.greedy
    p95, base95 = _p95(ours), _p95(bare)
    return {
        "bench": "dispatch",
        "officers": officers,
        "on_duty": on_duty,
        "tasks": tasks,
        "targets": args.targets,
        "recommendations": len(sample),
        "with_a_crew": crews_found,
        "p50_recommend_ms": round(statistics.median(ours), 1),
        "p95_recommend_ms": round(p95, 1),
        "baseline": "the bare eligibility SQL of each recommendation through psycopg; a dense Hungarian "
        "solve of the same pruned batch problem; a greedy nearest-first plan",
        "baseline_p95_ms": round(base95, 1),
        "ratio": round(p95 / base95, 2) if base95 else None,
        "batch_s": round(batch_s, 3),
        "batch_solve_s": round(plan.solve_s, 3),
        "crews": plan.crews,
        "assigned": len(plan.assignments),
        "unassigned": len(plan.unassigned),
        "total_travel_km": round(plan.total_travel_m / 1000, 1),
        "exact_total_travel_km": round(exact / 1000, 1),
        "exact_assigned": exact_assigned,
        "exact_solve_s": round(exact_s, 3),
        "optimality_ratio": round(plan.total_travel_m / exact, 6) if exact else None,
        "greedy_total_travel_km": round(greedy["total_travel_m"] / 1000, 1),
        "greedy_assigned": greedy["assigned"],
        "optimal_travel_for_greedys_tasks_km": round(same_as_greedy / 1000, 1),
        "shorter_than_greedy": (
            f"{1 - same_as_greedy / greedy['total_travel_m']:.1%}" if greedy["total_travel_m"] else None
        ),
        "pruning": {
            "tasks": len(few),
            "k": K,
            "pruned_assigned": len(pruned.assignments),
            "unpruned_assigned": len(unpruned.assignments),
            "pruned_travel_km": round(pruned.total_travel_m / 1000, 2),
            "unpruned_travel_km": round(unpruned.total_travel_m / 1000, 2),
            "cost_of_pruning": (
                f"{pruned.total_travel_m / unpruned.total_travel_m - 1:.2%}" if unpruned.total_travel_m else None
            ),
            "pruned_solve_s": round(pruned.solve_s + pruned.build_s, 3),
            "unpruned_solve_s": round(unpruned.solve_s + unpruned.build_s, 3),
            "lawful_crews_per_task_max": unpruned.lawful_max,
            "tasks_the_cap_pruned": pruned.tasks_pruned,
            "tight": {
                "k": TIGHT_K,
                "tasks_the_cap_pruned": tight.tasks_pruned,
                "assigned": len(tight.assignments),
                "travel_km": round(tight.total_travel_m / 1000, 2),
                "cost_of_pruning": (
                    f"{tight.total_travel_m / unpruned.total_travel_m - 1:.2%}" if unpruned.total_travel_m else None
                ),
            },
        },
        "seed": args.seed,
        "target": "p95 recommendation <= 50 ms; batch of 1,000 tasks over 3,000 on duty <= 2 s; optimality_ratio = 1.0",
    }


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else 0.0
