"""Random inspection plans (双随机、一公开): draw a stated share of targets, stratified by
domain, township and risk, and draw their inspectors at random from the lawful ones.

The draw is reproducible from the published seed: the same seed over the same registry
draws the same targets and the same officers. An officer who inspected a target last time
is not drawn for it again. Inspectors go through dispatch.assign, so every rule holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch import crews, model, tasks
from geo.infra import audit, exports

MAX_TARGETS = 20_000


def rng_for(seed: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


def allocate(sizes: list[int], share: float) -> list[int]:
    """Per-stratum sample sizes adding up to round(share * total): floors, then the largest
    remainders (ties to the earlier stratum)."""
    exact = [share * n for n in sizes]
    counts = [math.floor(x) for x in exact]
    left = round(share * sum(sizes)) - sum(counts)
    for i in sorted(range(len(sizes)), key=lambda i: (-(exact[i] - counts[i]), i))[: max(0, left)]:
        counts[i] += 1
    return counts


def draw(
    session: Session,
    *,
    name: str,
    seed: str,
    share: float,
    due_at: dt.datetime,
    actor: str,
    domains: list[str] | None = None,
    townships: list[str] | None = None,
    risks: list[int] | None = None,
    unit_ids: frozenset[int] | None = None,
) -> dict[str, Any]:
    """Draw the plan and assign its inspectors (from unit_ids only, when given)."""
    domains, townships, risks = list(domains or []), list(townships or []), list(risks or [])
    if not 0 < share <= 1:
        raise model.DispatchError("share must be above 0 and at most 1 (e.g. 0.05 for 5 %)")
    if not seed.strip():
        raise model.DispatchError("publish a seed: anyone must be able to redo the draw")
    population = session.execute(
        text(
            """
        SELECT t.id, t.township_code, t.risk_level,
               coalesce((SELECT d FROM unnest(t.domains) WITH ORDINALITY u(d, k)
                         WHERE cardinality(CAST(:domains AS text[])) = 0 OR d = ANY(CAST(:domains AS text[]))
                         ORDER BY k LIMIT 1), t.domains[1]) AS domain
        FROM target t
        WHERE (cardinality(CAST(:domains AS text[])) = 0 OR t.domains && CAST(:domains AS text[]))
          AND (cardinality(CAST(:towns AS text[])) = 0 OR t.township_code = ANY(CAST(:towns AS text[])))
          AND (cardinality(CAST(:risks AS int[])) = 0 OR t.risk_level = ANY(CAST(:risks AS int[])))
          AND t.township_code IS NOT NULL
        ORDER BY t.id
        """
        ),
        {"domains": domains, "towns": townships, "risks": risks},
    ).all()
    strata: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for tid, town, risk, domain in population:
        strata[(domain, town, risk)].append(tid)
    keys = sorted(strata)
    sizes = allocate([len(strata[k]) for k in keys], share)
    if sum(sizes) > MAX_TARGETS:
        raise model.DispatchError(f"the draw would make {sum(sizes):,} tasks; at most {MAX_TARGETS:,} per plan")
    plan_id = session.execute(
        text(
            """INSERT INTO random_plan (name, seed, share, domains, townships, risks, due_at, created_by)
           VALUES (:n, :s, :sh, :d, :t, :r, :due, :by) RETURNING id"""
        ),
        dict(n=name, s=seed, sh=share, d=domains, t=townships, r=risks, due=due_at, by=actor),
    ).scalar_one()
    rng = rng_for(seed)
    drawn: list[tuple[int, str]] = []
    for key, m in zip(keys, sizes, strict=True):
        ids = strata[key]
        for j in sorted(rng.choice(len(ids), size=m, replace=False)) if m else []:
            drawn.append((ids[j], key[0]))
    assigned, open_ = 0, []
    for target_id, domain in drawn:
        task_id = tasks.create_task(
            session, target_id=target_id, domain_key=domain, due_at=due_at, actor=actor, source="plan", plan_id=plan_id
        )
        crew = _draw_crew(session, task_id, target_id, rng, unit_ids)
        if crew is None:
            open_.append(task_id)
            continue
        with session.begin_nested():
            tasks.assign(session, task_id, crew, actor, via="random_plan")
        assigned += 1
    summary = {
        "plan_id": plan_id,
        "seed": seed,
        "population": len(population),
        "strata": len(keys),
        "drawn": len(drawn),
        "assigned": assigned,
        "without_crew": open_,
    }
    audit.record(session, actor, "plan_draw", subject=f"plan:{plan_id}", detail=summary)
    return summary


def _draw_crew(
    session: Session, task_id: int, target_id: int, rng: np.random.Generator, unit_ids: frozenset[int] | None = None
) -> list[int] | None:
    task = model.load_task(session, task_id)
    last = set(
        session.execute(
            text(
                """SELECT io.officer_id FROM inspection_officer io WHERE io.inspection_id = (
               SELECT i.id FROM inspection i WHERE i.target_id = :t AND i.id <> :me
                 AND i.status NOT IN ('declined', 'cancelled') ORDER BY i.created_at DESC, i.id DESC LIMIT 1)"""
            ),
            {"t": target_id, "me": task_id},
        ).scalars()
    )
    by_unit: dict[int, list[int]] = defaultdict(list)
    for officer in crews.officer_pool(session, task, unit_ids=unit_ids, max_excluded=0):
        if not crews.violations(officer) and officer["id"] not in last:
            by_unit[officer["unit_id"]].append(officer["id"])
    units = sorted(u for u, ids in by_unit.items() if len(ids) >= task.crew_size)
    if not units:
        return None
    unit = units[int(rng.integers(len(units)))]
    ids = sorted(by_unit[unit])
    return sorted(int(ids[j]) for j in rng.choice(len(ids), size=task.crew_size, replace=False))


def plan_rows(session: Session, plan_id: int) -> list[dict[str, Any]]:
    rows = (
        session.execute(
            text(
                """
        SELECT i.id AS inspection_id, t.name AS target, coalesce(t.credit_code, t.key) AS code,
               w.name AS township, d.zh AS domain, t.risk_level, i.status, i.result, i.due_at,
               coalesce((SELECT string_agg(o.name || '(' || o.cert_no || ')', '、' ORDER BY o.id)
                         FROM inspection_officer io JOIN officer o ON o.id = io.officer_id
                         WHERE io.inspection_id = i.id), '') AS inspectors,
               -- 抽查事项清单: the task's items, or the domain's inspection items, each with its check points
               coalesce((SELECT string_agg(e.name || coalesce('（' || (SELECT string_agg(p->>'content', '；')
                                               FROM jsonb_array_elements(e.check_points) p) || '）', ''),
                                           '、' ORDER BY e.code)
                         FROM enforcement_item e WHERE e.valid_to IS NULL
                          AND (e.code = ANY(i.items) OR (cardinality(i.items) = 0 AND e.domain_key = i.domain_key
                                                         AND e.power_type_key = 'inspection'))), '') AS check_items
        FROM inspection i JOIN target t ON t.id = i.target_id LEFT JOIN township w ON w.code = t.township_code
        JOIN domain d ON d.key = i.domain_key
        WHERE i.plan_id = :p ORDER BY i.id
        """
            ),
            {"p": plan_id},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def plan_csv(session: Session, plan_id: int) -> str:
    """The list and results, for publication (公开)."""
    plan = (
        session.execute(text("SELECT name, seed, share, created_at FROM random_plan WHERE id = :p"), {"p": plan_id})
        .mappings()
        .first()
    )
    if plan is None:
        raise model.NotFound(f"no plan {plan_id}")
    head = [
        f"# {plan['name']}；随机种子 seed={plan['seed']}；抽取比例 {float(plan['share']):.2%}；"
        f"生成于 {plan['created_at']:%Y-%m-%d %H:%M}"
    ]
    columns = [
        "序号",
        "检查对象",
        "统一社会信用代码",
        "街镇",
        "执法领域",
        "抽查事项（检查内容）",
        "风险等级",
        "检查人员",
        "状态",
        "检查结果",
    ]
    rows: list[list[Any]] = [head, columns]
    for n, r in enumerate(plan_rows(session, plan_id), start=1):
        rows.append(
            [
                n,
                r["target"],
                r["code"],
                r["township"],
                r["domain"],
                r["check_items"],
                r["risk_level"],
                r["inspectors"],
                r["status"],
                r["result"] or "",
            ]
        )
    return exports.csv_text(rows)


def progress(session: Session, unit_ids: frozenset[int] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Plans, newest first, with how far their tasks have come (only plans with a task in
    the caller's units, for a unit-scoped caller)."""
    rows = session.execute(
        text(
            """SELECT p.id, p.name, p.seed, p.share, p.due_at, p.created_by, p.created_at,
                   count(i.id) FILTER (WHERE i.status <> 'cancelled') AS tasks,
                   count(i.id) FILTER (WHERE i.status = 'completed') AS completed,
                   count(i.id) FILTER (WHERE i.status = 'created') AS without_crew,
                   count(i.id) FILTER (WHERE i.result = 'violation') AS violations
            FROM random_plan p LEFT JOIN inspection i ON i.plan_id = p.id
            WHERE CAST(:units AS int[]) IS NULL OR EXISTS (
                SELECT 1 FROM inspection x WHERE x.plan_id = p.id AND x.unit_id = ANY(CAST(:units AS int[])))
            GROUP BY p.id ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"""
        ),
        {"units": sorted(unit_ids) if unit_ids is not None else None, "limit": limit},
    ).mappings()
    return [
        dict(r, due_at=r["due_at"].isoformat(), created_at=r["created_at"].isoformat(), share=float(r["share"]))
        for r in rows
    ]
