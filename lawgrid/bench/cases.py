"""Cases at district scale, in a database of its own: N open cases over every unit with a
penalty power, at every step of the ordinary procedure, filed over the last 100 days.

Figures: the warning sweep over all of them (first run, which raises the warnings, and a
steady run) beside the bare SELECT that finds the running clocks; the p95 of the case list
filtered by unit and warning (the API's query) beside the same filter in bare SQL; the p95
of one transition with its gate checks (a decision: review, notice window, limits) through
geo.cases.perform, beside the bare gate function alone."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import text

from demo.cases import seed_cases
from demo.seed import seed_organisation, seed_targets
from geo.access import accounts
from geo.cases import clocks, machine, views, workdays
from geo.cases.actions import PRE_DECISION
from geo.infra import db
from geo.infra.timezone import today as beijing_today
from geo.places.reference import load_reference
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR

SAMPLES = 300
STATUSES = (*PRE_DECISION[:7], "decided", "served", "executing")  # the open statuses a district holds


def _log(msg: str) -> None:
    print(f"[bench cases] {msg}", file=sys.stderr, flush=True)


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 2)


def bulk_cases(session, n: int, today: dt.date) -> None:
    """N cases in one statement each for the cases and their two officers (real constraints
    and triggers; the crew is checked at commit), with each running clock set as the
    procedure would have set it."""
    session.execute(
        text(
            """
            WITH units AS (
                SELECT u.id, u.code, min(p.item_code) AS item, row_number() OVER (ORDER BY u.id) - 1 AS k
                FROM enforcement_unit u JOIN power_item p ON p.unit_id = u.id AND p.power_type_key = 'penalty'
                WHERE (SELECT count(*) FROM officer o WHERE o.unit_id = u.id) >= 2 GROUP BY u.id, u.code),
            nu AS (SELECT count(*) AS n FROM units),
            g AS (SELECT i, (SELECT id FROM units, nu WHERE units.k = i % nu.n) AS unit_id,
                         (CAST(:statuses AS text[]))[1 + (i * 7919) % cardinality(CAST(:statuses AS text[]))] AS status,
                         CAST(:today AS date) - ((i * 104729) % 100)::int AS filed
                  FROM generate_series(1::bigint, :n) i)
            INSERT INTO enf_case (case_no, procedure, status, unit_id, party_kind, party_name, item_code, item_name,
                                  legal_basis, facts, proposed, filed_on, decision_due, review_due, service_due,
                                  created_by)
            SELECT 'BENCH-' || g.i, 'ordinary', g.status, g.unit_id, 'legal', '基准测试当事人 ' || g.i, u.item,
                   '价格违法行为处罚', '《价格法》', 'bench', '{"kinds": ["fine"], "fine_yuan": 5000}',
                   g.filed, (SELECT min(day) FROM work_calendar WHERE day >= g.filed + 90 AND is_workday),
                   CASE WHEN g.status = 'under_review' THEN
                       (SELECT min(day) FROM work_calendar WHERE day >= g.filed + 14 AND is_workday) END,
                   CASE WHEN g.status = 'decided' THEN
                       (SELECT min(day) FROM work_calendar WHERE day >= g.filed + 9 AND is_workday) END,
                   'bench'
            FROM g JOIN units u ON u.id = g.unit_id
            """
        ),
        {"n": n, "today": today, "statuses": list(STATUSES)},
    )
    session.execute(
        text(
            """INSERT INTO case_officer (case_id, officer_id)
               SELECT e.id, o.id FROM enf_case e
               CROSS JOIN LATERAL (SELECT id FROM officer o WHERE o.unit_id = e.unit_id
                                   AND e.filed_on BETWEEN o.cert_valid_from AND o.cert_valid_to
                                   ORDER BY id LIMIT 2) o
               WHERE e.created_by = 'bench'"""
        )
    )
    session.execute(
        text(
            "UPDATE officer SET cert_valid_from = least(cert_valid_from, CURRENT_DATE - 200), "
            "cert_valid_to = greatest(cert_valid_to, CURRENT_DATE + 400)"
        )
    )


def run(runtime, args) -> dict:
    n = args.cases
    today = beijing_today()
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    _log(f"seeding the organisation, {args.targets:,} targets and {n:,} cases")
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        workdays.ensure_provisional(s)
        seed_organisation(s, officers=3000, seed=3)
        seed_targets(s, targets=args.targets, seed=args.seed, progress=False)
        s.execute(text("UPDATE officer SET cert_valid_from = CURRENT_DATE - 200, cert_valid_to = CURRENT_DATE + 400"))
    with db.session_scope(sessions) as s:
        bulk_cases(s, n, today)
    with db.session_scope(sessions) as s:
        seed_cases(s, runtime.documents, 60, today=today)  # cases at every step, walked through the real procedure
        seed_cases(s, runtime.documents, SAMPLES, today=today, stop_before="decide")  # the transition sample
        s.execute(text("ANALYZE"))

    with db.session_scope(sessions) as s:
        s.execute(text("DELETE FROM case_warning"))  # the first pass raises every warning
        t0 = time.perf_counter()
        raised = clocks.sweep(s, today)
        first = time.perf_counter() - t0
    with db.session_scope(sessions) as s:
        t0 = time.perf_counter()
        clocks.sweep(s, today)
        steady = time.perf_counter() - t0
    raw = psycopg.connect(db.raw_psycopg_url(engine), options=db.SESSION_OPTIONS)
    clocks_sql = clocks._clocks_sql(False).replace("CAST(:today AS date)", "%(today)s::date")
    t0 = time.perf_counter()
    running = (raw.execute(f"SELECT count(*) FROM ({clocks_sql}) k", {"today": today}).fetchone() or (0,))[0]
    bare_sweep = time.perf_counter() - t0
    _log(f"sweep: first {first:.2f} s ({len(raised):,} warnings), steady {steady:.2f} s; bare {bare_sweep:.2f} s")

    oversight = accounts.Scope(0, "bench", "oversight", None)
    with db.session_scope(sessions) as s:
        units = [r[0] for r in s.execute(text("SELECT DISTINCT unit_id FROM enf_case"))]
    rng = np.random.default_rng(args.seed)
    ours, bare = [], []
    with db.session_scope(sessions) as s:
        for _ in range(SAMPLES):
            unit, level = int(rng.choice(units)), str(rng.choice(["amber", "red", "breach"]))
            t0 = time.perf_counter()
            views.list_cases(s, oversight, status="open", unit_id=unit, warning=level, limit=200)
            ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            raw.execute(
                "SELECT e.id, e.case_no, e.status, e.next_due FROM enf_case e WHERE e.unit_id = %(u)s "
                "AND e.status NOT IN ('closed', 'onsite_filed') AND EXISTS (SELECT 1 FROM case_warning w "
                "WHERE w.case_id = e.id AND w.level = %(l)s) ORDER BY e.next_due NULLS LAST, e.id LIMIT 200",
                {"u": unit, "l": level},
            ).fetchall()
            bare.append((time.perf_counter() - t0) * 1000)

    with db.session_scope(sessions) as s:
        ready: list[Any] = list(
            s.execute(
                text(
                    "SELECT e.id, e.unit_id FROM enf_case e JOIN case_notice n ON n.case_id = e.id "
                    "WHERE e.status = 'notified' AND n.waived_on IS NOT NULL "
                    "AND (NOT n.hearing_right OR n.hearing_waived) AND e.decision_due >= :today"
                ),
                {"today": today},  # Beijing's day, which the decision is made on (not the server's UTC one)
            ).all()
        )
        if len(ready) < 20:  # waive the notified cases that have not been
            for case_id, unit in s.execute(
                text(
                    "SELECT id, unit_id FROM enf_case WHERE status = 'notified' "
                    "AND created_by LIKE 'seed-%' AND decision_due >= :today"
                ),
                {"today": today},
            ).all():
                s.execute(
                    text("UPDATE case_notice SET waived_on = served_on, hearing_waived = true WHERE case_id = :c"),
                    {"c": case_id},
                )
                ready.append((case_id, unit))
    ready = _one_case_per_unfined_act(sessions, ready)
    step_ms, gate_ms, decided = [], [], 0
    for case_id, unit in dict(ready).items():
        with db.session_scope(sessions) as s:
            head_name = s.execute(
                text(
                    "SELECT username FROM app_user WHERE role = 'organ_head' AND id IN "
                    "(SELECT user_id FROM user_unit WHERE unit_id = :u) LIMIT 1"
                ),
                {"u": unit},
            ).scalar_one()
            uid = s.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": head_name}).scalar_one()
            head = accounts.Scope(uid, head_name, "organ_head", frozenset({unit}))
            t0 = time.perf_counter()
            raw.execute("SELECT lawgrid_decision_gates(%(c)s, 'penalty', NULL, %(d)s)", {"c": case_id, "d": today})
            gate_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            machine.perform(s, head, case_id, "decide", {"kind": "penalty"})
            step_ms.append((time.perf_counter() - t0) * 1000)
            decided += 1
    raw.close()
    with engine.connect() as c:
        open_cases = c.execute(text("SELECT count(*) FROM enf_case WHERE status NOT IN ('closed', 'onsite_filed')"))
        open_n = open_cases.scalar_one()
    engine.dispose()
    return {
        "bench": "cases",
        "open_cases": open_n,
        "running_clocks": running,
        "sweep_first_s": round(first, 3),
        "sweep_steady_s": round(steady, 3),
        "warnings": len(raised),
        "baseline_bare_clock_select_s": round(bare_sweep, 3),
        "list_p95_ms": _p95(ours),
        "baseline_bare_list_p95_ms": _p95(bare),
        "transition_decide_p95_ms": _p95(step_ms) if len(step_ms) >= 2 else None,
        "baseline_bare_gates_p95_ms": _p95(gate_ms) if len(gate_ms) >= 2 else None,
        "transitions_timed": decided,
        "targets": {"list_p95_ms": 100, "transition_p95_ms": 50, "sweep_s": 2},
    }


def _one_case_per_unfined_act(sessions: Any, ready: list[Any]) -> list[Any]:
    """One act is fined once (处罚法 第二十九条): of the ready cases, one per act, and none whose act
    another case has fined already."""
    with db.session_scope(sessions) as s:
        keep = set(
            s.execute(
                text(
                    """SELECT DISTINCT ON (coalesce(e.party_id_no, e.party_name), e.item_code, e.act_on) e.id
                       FROM enf_case e WHERE e.id = ANY(:ids) AND NOT EXISTS (
                           SELECT 1 FROM enf_case o JOIN case_decision d ON d.case_id = o.id
                           WHERE o.id <> e.id AND o.item_code = e.item_code AND o.act_on = e.act_on
                             AND coalesce(o.party_id_no, o.party_name) = coalesce(e.party_id_no, e.party_name))
                       ORDER BY coalesce(e.party_id_no, e.party_name), e.item_code, e.act_on, e.id"""
                ),
                {"ids": [int(c) for c, _ in ready]},
            ).scalars()
        )
    return [(c, u) for c, u in ready if int(c) in keep]
