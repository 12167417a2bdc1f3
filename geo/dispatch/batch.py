"""Batch assignment: many open tasks at once, minimising total travel while every rule and
cap holds.

On-duty officers are paired, within each unit, into two-person crews by proximity; a crew
may take as many tasks as its members' remaining daily caps allow. For each task only the
k nearest lawful crews are kept (the pruned candidate set); the assignment of tasks to crew
slots is then solved exactly as a minimum-weight bipartite matching (every task also gets a
costly "leave unassigned" slot, so a matching always exists). The plan is shown before it
is committed, and committing re-checks every rule under row locks (dispatch.assign).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch import crews as dispatch_crews
from geo.dispatch import model
from geo.dispatch import tasks as dispatch_tasks
from geo.infra.timezone import BEIJING
from geo.places.distance import haversine_many_m

UNASSIGNED_COST = 1e9  # metres: far above any real trip, so only a task with no lawful crew stays open


@dataclass
class Crew:
    unit_id: int
    officers: tuple[int, int]
    lon: float
    lat: float
    capacity: int


@dataclass
class BatchPlan:
    assignments: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    total_travel_m: float = 0.0
    solve_s: float = 0.0
    build_s: float = 0.0
    candidates_per_task: int = 0
    crews: int = 0
    lawful_max: int = 0  # the most lawful crews any one task had before the k nearest were kept
    tasks_pruned: int = 0  # tasks that had more than k lawful crews (the cap left some out)
    problem: dict[str, Any] | None = None  # the pruned problem, for comparing solvers
    greedy: dict[str, Any] | None = None  # the nearest-first baseline on the same candidates

    def as_dict(self) -> dict[str, Any]:
        return {
            "assignments": self.assignments,
            "unassigned": self.unassigned,
            "total_travel_m": round(self.total_travel_m),
            "assigned": len(self.assignments),
            "solve_s": round(self.solve_s, 3),
            "build_s": round(self.build_s, 3),
            "crews": self.crews,
        }


def load_tasks(session: Session, task_ids: list[int] | None) -> list[dict[str, Any]]:
    rows = (
        session.execute(
            text(
                """
        SELECT i.id, i.domain_key, i.items, i.due_at, i.crew_size, i.priority, i.target_id, t.township_code,
               ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat
        FROM inspection i JOIN target t ON t.id = i.target_id
        WHERE i.status IN ('created', 'declined') AND (CAST(:ids AS bigint[]) IS NULL OR i.id = ANY(:ids))
        ORDER BY i.priority, i.due_at, i.id
        """
            ),
            {"ids": task_ids},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def build_crews(session: Session, day: dt.date) -> tuple[list[Crew], dict[int, Any]]:
    """Two-person crews of on-duty officers, paired by proximity within each unit, and what
    the rules need to know about each member."""
    rows = (
        session.execute(
            text(
                f"""
        SELECT o.id, o.unit_id, o.cert_valid_from, o.cert_valid_to,
               o.daily_task_cap - (SELECT count(*) FROM inspection_officer io
                                   JOIN inspection i ON i.id = io.inspection_id
                                   WHERE io.officer_id = o.id AND io.due_day = :day
                                     AND i.status NOT IN ('declined', 'cancelled')) AS capacity,
               {dispatch_crews.OFFICER_POSITION_COLUMNS},
               (SELECT array_agg(township_code) FROM officer_area a WHERE a.officer_id = o.id) AS areas
        FROM officer o
        {dispatch_crews.OFFICER_POSITION_JOINS.format(o="o.id")}
        WHERE o.duty_state <> 'off_duty'
        """
            ),
            {"day": day},
        )
        .mappings()
        .all()
    )
    officers = {r["id"]: dict(r) for r in rows if r["capacity"] > 0 and r["lon"] is not None}
    by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o in officers.values():
        by_unit[o["unit_id"]].append(o)
    crews = []
    for unit_id, members in by_unit.items():
        members.sort(key=lambda o: (o["lon"], o["id"]))
        free = members[:]
        while len(free) >= 2:
            a = free.pop(0)
            d = haversine_many_m(
                a["lon"], a["lat"], np.array([o["lon"] for o in free]), np.array([o["lat"] for o in free])
            )
            b = free.pop(int(np.argmin(d)))
            crews.append(
                Crew(
                    unit_id,
                    (a["id"], b["id"]),
                    (a["lon"] + b["lon"]) / 2,
                    (a["lat"] + b["lat"]) / 2,
                    int(min(a["capacity"], b["capacity"])),
                )
            )
    return crews, officers


def plan_batch(
    session: Session, task_ids: list[int] | None = None, k: int = 25, unit_ids: frozenset[int] | None = None
) -> BatchPlan:
    """The optimal plan for these open tasks (all open ones by default), using crews of
    unit_ids only when given (a unit-scoped dispatcher)."""
    t0 = time.perf_counter()
    plan = BatchPlan()
    tasks = load_tasks(session, task_ids)
    if not tasks:
        return plan
    day = min(t["due_at"] for t in tasks).astimezone(BEIJING).date()
    crews, officers = build_crews(session, day)
    if unit_ids is not None:
        crews = [c for c in crews if c.unit_id in unit_ids]
    plan.crews = len(crews)
    lawful = _Lawful(session, crews, officers)
    # Columns: one per crew slot (crew j repeated capacity_j times), then one "unassigned" per task.
    slot_start = np.concatenate([[0], np.cumsum([c.capacity for c in crews])])
    rows, cols, costs = [], [], []
    candidate_sets: list[list[tuple[int, float]]] = []
    for ti, task in enumerate(tasks):
        if task["crew_size"] != 2:
            plan.unassigned.append(
                {"inspection_id": task["id"], "reason": f"a crew of {task['crew_size']}: assign by hand"}
            )
            candidate_sets.append([])
            continue
        chosen = lawful.nearest(task, k, plan)
        candidate_sets.append(chosen)
        for j, d in chosen:
            for slot in range(slot_start[j], slot_start[j + 1]):
                rows.append(ti)
                cols.append(slot)
                costs.append(d + 1.0)  # +1: the matching treats zero as "no edge"
    n_slots = int(slot_start[-1])
    for ti in range(len(tasks)):
        rows.append(ti)
        cols.append(n_slots + ti)
        costs.append(UNASSIGNED_COST)
    plan.candidates_per_task = k
    plan.problem = {
        "rows": np.array(rows),
        "cols": np.array(cols),
        "costs": np.array(costs),
        "n_tasks": len(tasks),
        "n_cols": n_slots + len(tasks),
    }
    plan.build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    graph = csr_matrix((costs, (rows, cols)), shape=(len(tasks), n_slots + len(tasks)))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    plan.solve_s = time.perf_counter() - t1
    _read_matching(plan, tasks, crews, graph, row_ind, col_ind, n_slots)
    plan.greedy = _greedy(tasks, candidate_sets, crews)
    return plan


class _Lawful:
    """Which crews may lawfully take a task (unit power for the domain and items, every member's
    area and certificate, no recusal), vectorised over the crews and cached by township and day."""

    def __init__(self, session: Session, crews: list[Crew], officers: dict[int, dict[str, Any]]) -> None:
        self.crews, self.officers = crews, officers
        self.power: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for unit_id, domain, item in session.execute(text("SELECT unit_id, domain_key, item_code FROM power_item")):
            self.power[domain][unit_id].add(item)
        self.recused = {tuple(r) for r in session.execute(text("SELECT officer_id, target_id FROM recusal"))}
        self.lons = np.array([c.lon for c in crews])
        self.lats = np.array([c.lat for c in crews])
        self.units = np.array([c.unit_id for c in crews])
        self.area_ok: dict[str, Any] = {}
        self.cert_ok: dict[dt.date, Any] = {}

    def covers(self, township: str) -> Any:
        if township not in self.area_ok:
            self.area_ok[township] = np.array(
                [all(township in (self.officers[o]["areas"] or []) for o in c.officers) for c in self.crews],
                dtype=bool,
            )
        return self.area_ok[township]

    def certified(self, due_day: dt.date) -> Any:
        if due_day not in self.cert_ok:
            self.cert_ok[due_day] = np.array(
                [
                    all(
                        self.officers[o]["cert_valid_from"] <= due_day <= self.officers[o]["cert_valid_to"]
                        for o in c.officers
                    )
                    for c in self.crews
                ],
                dtype=bool,
            )
        return self.cert_ok[due_day]

    def nearest(self, task: dict[str, Any], k: int, plan: BatchPlan) -> list[tuple[int, float]]:
        """The k nearest lawful crews (index, metres); counts what the cap pruned on the plan."""
        holders = self.power.get(task["domain_key"], {})
        items = set(task["items"] or [])
        if not self.crews:
            return []
        unit_ok = np.array([u in holders and items <= holders[u] for u in self.units], dtype=bool)
        due_day = task["due_at"].astimezone(BEIJING).date()
        idx = np.flatnonzero(unit_ok & self.covers(task["township_code"]) & self.certified(due_day))
        plan.lawful_max = max(plan.lawful_max, int(idx.size))
        plan.tasks_pruned += int(idx.size > k)
        if not idx.size:
            return []
        dist = haversine_many_m(task["lon"], task["lat"], self.lons[idx], self.lats[idx])
        order = np.argsort(dist)[: k * 2]
        return [
            (int(idx[j]), float(dist[j]))
            for j in order
            if not any((o, task["target_id"]) in self.recused for o in self.crews[idx[j]].officers)
        ][:k]


def _read_matching(
    plan: BatchPlan,
    tasks: list[dict[str, Any]],
    crews: list[Crew],
    graph: Any,
    row_ind: Any,
    col_ind: Any,
    n_slots: int,
) -> None:
    """The matching as assignments (with their travel) and the tasks left unassigned."""
    slot_crew = np.repeat(np.arange(len(crews)), [c.capacity for c in crews])
    for ti, col in zip(row_ind, col_ind, strict=True):
        task = tasks[ti]
        if task["crew_size"] != 2:
            continue
        if col >= n_slots:
            plan.unassigned.append({"inspection_id": task["id"], "reason": "no lawful crew with capacity nearby"})
            continue
        crew = crews[slot_crew[col]]
        travel = float(graph[ti, col]) - 1.0
        plan.total_travel_m += travel
        plan.assignments.append(
            {
                "inspection_id": task["id"],
                "officer_ids": list(crew.officers),
                "unit_id": crew.unit_id,
                "travel_m": round(travel),
            }
        )


def describe(session: Session, assignments: list[dict[str, Any]]) -> None:
    """Add the target's and officers' names to each planned assignment, for the preview."""
    officers: dict[int, str] = dict(
        session.execute(
            text("SELECT id, name FROM officer WHERE id = ANY(:ids)"),
            {"ids": [o for a in assignments for o in a["officer_ids"]]},
        ).all()
    )
    targets: dict[int, str] = dict(
        session.execute(
            text("SELECT i.id, t.name FROM inspection i JOIN target t ON t.id = i.target_id WHERE i.id = ANY(:ids)"),
            {"ids": [a["inspection_id"] for a in assignments]},
        ).all()
    )
    for a in assignments:
        a["target"] = targets.get(a["inspection_id"], "")
        a["officers"] = [officers.get(o, str(o)) for o in a["officer_ids"]]


def _greedy(tasks: Any, candidate_sets: list[list[tuple[int, float]]], crews: Any) -> dict[str, Any]:
    """Baseline: in queue order each task takes its nearest crew that still has capacity."""
    left = [c.capacity for c in crews]
    total, staffed = 0.0, list[int]()
    for ti, chosen in enumerate(candidate_sets):
        for j, d in chosen:
            if left[j] > 0:
                left[j] -= 1
                total += d
                staffed.append(ti)
                break
    return {"total_travel_m": total, "assigned": len(staffed), "staffed": staffed}


def exact_total(problem: dict[str, Any], only: list[int] | None = None) -> tuple[float, int]:
    """The same pruned problem solved by a different exact method (dense Hungarian); with
    only, the optimum for just those tasks (e.g. the ones a baseline staffed)."""
    dense = np.full((problem["n_tasks"], problem["n_cols"]), np.inf)
    dense[problem["rows"], problem["cols"]] = problem["costs"]
    if only is not None:
        dense = dense[only]
    r, c = linear_sum_assignment(dense)
    chosen = dense[r, c]
    real = chosen < UNASSIGNED_COST
    return float((chosen[real] - 1.0).sum()), int(real.sum())


def commit_plan(session: Session, assignments: list[dict[str, Any]], actor: str) -> dict[str, Any]:
    """Assign each planned crew, re-checking every rule under locks; a task that someone else
    took meanwhile is reported, the rest go through."""
    done, failed = [], []
    for a in assignments:
        try:
            with session.begin_nested():
                dispatch_tasks.assign(session, a["inspection_id"], a["officer_ids"], actor, via="batch")
            done.append(a["inspection_id"])
        except (model.Conflict, model.Refused, model.NotFound) as exc:
            failed.append({"inspection_id": a["inspection_id"], "reason": str(exc)})
    return {"assigned": done, "failed": failed}
