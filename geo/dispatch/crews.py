"""Lawful crews: the officer pool with each rule's verdict (unit power, certificate, area, duty,
daily cap, recusal), the violations of a hand-picked crew, and ranked candidates with reasons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch.model import RULES, Task, load_task
from geo.places.distance import haversine_m

# -- eligibility ----------------------------------------------------------------------
LAWFUL = "unit_power AND certificate AND area AND on_duty AND tasks_today < cap AND NOT recused"
BROKEN = (
    "(NOT unit_power)::int + (NOT certificate)::int + (NOT area)::int + (NOT on_duty)::int"
    " + (tasks_today >= cap)::int + recused::int"
)
# Where an officer is, for travel estimates, in recommendations and in batch plans alike: his
# device's live position where it is not offline, else the centre of his (first) area
# township; `position_source` says which.
OFFICER_POSITION_JOINS = """
    LEFT JOIN LATERAL (
        SELECT ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat FROM device d JOIN device_state s ON s.device_id = d.id
        WHERE d.officer_id = {o} AND s.state <> 'offline' ORDER BY s.fix_time DESC LIMIT 1) pos ON true
    LEFT JOIN LATERAL (
        SELECT ST_X(w.centre) AS lon, ST_Y(w.centre) AS lat FROM officer_area a
        JOIN township w ON w.code = a.township_code
        WHERE a.officer_id = {o} ORDER BY a.township_code LIMIT 1) tw ON true"""
OFFICER_POSITION_COLUMNS = (
    "coalesce(pos.lon, tw.lon) AS lon, coalesce(pos.lat, tw.lat) AS lat, "
    "CASE WHEN pos.lon IS NOT NULL THEN 'live' WHEN tw.lon IS NOT NULL THEN 'township' END AS position_source"
)
POOL_SQL = f"""
    WITH t AS (SELECT CAST(:township AS text) AS township, CAST(:domain AS text) AS domain,
                      CAST(:items AS text[]) AS items, CAST(:due_day AS date) AS due_day,
                      CAST(:target AS bigint) AS target),
    pool AS MATERIALIZED (  -- each rule evaluated once per officer
        SELECT o.id, o.name, o.cert_no, o.unit_id,
               o.unit_id = ANY(ARRAY(SELECT p.unit_id FROM power_item p, t WHERE p.domain_key = t.domain
                                     AND (cardinality(t.items) = 0 OR p.item_code = ANY(t.items)))) AS unit_power,
               (o.cert_valid_from <= t.due_day AND t.due_day <= o.cert_valid_to) AS certificate,
               EXISTS (SELECT 1 FROM officer_area a WHERE a.officer_id = o.id AND a.township_code = t.township) AS area,
               o.duty_state <> 'off_duty' AS on_duty,
               (SELECT count(*) FROM inspection_officer io JOIN inspection i ON i.id = io.inspection_id
                WHERE io.officer_id = o.id AND io.due_day = t.due_day
                  AND i.status NOT IN ('declined', 'cancelled')) AS tasks_today,
               o.daily_task_cap AS cap,
               EXISTS (SELECT 1 FROM recusal r WHERE r.officer_id = o.id AND r.target_id = t.target) AS recused
        FROM officer o, t
        WHERE {{where}} AND (CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[])))),
    ranked AS (
        SELECT pool.*, {LAWFUL} AS lawful,
               count(*) FILTER (WHERE NOT ({LAWFUL})) OVER () AS excluded_total,
               row_number() OVER (PARTITION BY {LAWFUL} ORDER BY {BROKEN}, id) AS rank
        FROM pool)
    SELECT r.*, u.name AS unit, {OFFICER_POSITION_COLUMNS},
           (SELECT count(*) FROM inspection_officer io JOIN inspection i ON i.id = io.inspection_id
            JOIN target tt ON tt.id = i.target_id, t
            WHERE io.officer_id = r.id AND i.status = 'completed' AND tt.township_code = t.township) AS familiarity
    FROM ranked r JOIN enforcement_unit u ON u.id = r.unit_id
    {OFFICER_POSITION_JOINS.format(o="r.id")}
    WHERE r.lawful OR CAST(:max_excluded AS int) IS NULL OR r.rank <= CAST(:max_excluded AS int)
    ORDER BY r.lawful DESC, r.rank
"""


def officer_pool(
    session: Session,
    task: Task,
    officer_ids: list[int] | None = None,
    *,
    unit_ids: frozenset[int] | None = None,
    max_excluded: int | None = None,
) -> list[dict[str, Any]]:
    """Officers who could matter for this task, each with every rule evaluated: the lawful
    ones first, then at most max_excluded of the others, fewest rules broken first (each row
    also carries excluded_total). Without officer_ids: the officers of units holding the
    domain, and those whose area covers the target's township; only units in unit_ids if given."""
    if officer_ids is not None:
        where, extra = "o.id = ANY(:ids)", {"ids": officer_ids}
    else:
        where = (
            "(o.unit_id IN (SELECT unit_id FROM power_item WHERE domain_key = :domain) "
            "OR o.id IN (SELECT officer_id FROM officer_area WHERE township_code = :township))"
        )
        extra = {}
    rows = (
        session.execute(
            text(POOL_SQL.format(where=where)),
            dict(
                township=task.township_code,
                domain=task.domain_key,
                items=task.items,
                due_day=task.due_day,
                target=task.target_id,
                units=sorted(unit_ids) if unit_ids is not None else None,
                max_excluded=max_excluded,
                **extra,
            ),
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def violations(officer: dict[str, Any], *, ignore_current: bool = False) -> list[str]:
    """The rules this officer breaks for the task his pool row was evaluated against."""
    broken = [rule for rule in ("unit_power", "certificate", "area") if not officer[rule]]
    if not officer["on_duty"]:
        broken.append("off_duty")
    if officer["tasks_today"] >= officer["cap"] and not ignore_current:
        broken.append("daily_cap")
    if officer["recused"]:
        broken.append("recused")
    return broken


def crew_violations(
    task: Task, pool: list[dict[str, Any]], officer_ids: list[int], joint: bool
) -> list[dict[str, Any]]:
    found = {o["id"]: o for o in pool}
    out = [{"rule": "unknown_officer", "officer_id": i} for i in officer_ids if i not in found]
    for oid in officer_ids:
        if oid in found:
            out += [{"rule": r, "officer_id": oid, "officer": found[oid]["name"]} for r in violations(found[oid])]
    if len(set(officer_ids)) < task.crew_size:
        out.append({"rule": "crew_size", "detail": f"{len(set(officer_ids))} < {task.crew_size}"})
    units = {found[i]["unit_id"] for i in officer_ids if i in found}
    if len(units) > 1 and not joint:
        out.append({"rule": "one_unit", "detail": sorted(units)})
    return out


# -- recommendation -------------------------------------------------------------------
def candidates(
    session: Session, task_id: int, limit: int = 5, lang: str = "zh", unit_ids: frozenset[int] | None = None
) -> dict[str, Any]:
    """Ranked lawful crews with their reasons, and the excluded officers with their rules
    (only officers of unit_ids, for a unit-scoped dispatcher)."""
    task = load_task(session, task_id)
    pool = officer_pool(session, task, unit_ids=unit_ids, max_excluded=200)
    eligible, excluded = [], []
    for o in pool:
        broken = violations(o)
        o["distance_m"] = None if o["lon"] is None else round(haversine_m(o["lon"], o["lat"], task.lon, task.lat))
        if broken:
            excluded.append(
                {
                    "officer_id": o["id"],
                    "name": o["name"],
                    "unit": o["unit"],
                    "rules": broken,
                    "reasons": [RULES[r][0 if lang == "zh" else 1] for r in broken],
                }
            )
        else:
            eligible.append(o)
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for o in eligible:
        by_unit.setdefault(o["unit_id"], []).append(o)
    crews = []
    for unit_id, officers in by_unit.items():
        # Nearest first (a live position, else the officer's township centre); up to
        # CREWS_PER_UNIT crews of the unit, each the next crew_size officers.
        officers.sort(key=lambda o: (o["distance_m"] is None, o["distance_m"] or 0, o["tasks_today"], o["id"]))
        usable = officers[: CREWS_PER_UNIT * task.crew_size]
        for start in range(0, len(usable) - task.crew_size + 1, task.crew_size):
            crews.append(_crew(unit_id, usable[start : start + task.crew_size], lang))
    crews.sort(key=lambda c: c["score"])
    return {
        "inspection_id": task.id,
        "crew_size": task.crew_size,
        "crews": crews[:limit],
        "target": {"id": task.target_id, "name": task.target_name, "lon": task.lon, "lat": task.lat},
        "eligible_officers": len(eligible),
        "eligible": [  # for a manual pick, nearest first (the rules still apply on assigning)
            {k: o[k] for k in ("id", "name", "cert_no", "unit_id", "unit", "distance_m", "position_source")}
            for o in sorted(eligible, key=lambda o: (o["distance_m"] is None, o["distance_m"] or 0, o["id"]))[:100]
        ],
        "excluded": excluded,
        "excluded_total": pool[0]["excluded_total"] if pool else 0,
    }


CREWS_PER_UNIT = 3


def _crew(unit_id: int, crew: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    travel = sum(o["distance_m"] or 0 for o in crew)
    workload = sum(o["tasks_today"] for o in crew)
    familiarity = sum(o["familiarity"] for o in crew)
    score = travel / 1000 + 2.0 * workload - 0.5 * min(familiarity, 10)
    sources = {o["position_source"] for o in crew}
    estimate = "live" if sources == {"live"} else ("township" if sources == {"township"} else "mixed")
    return {
        "unit_id": unit_id,
        "unit": crew[0]["unit"],
        "score": round(score, 2),
        "travel_m": travel,
        "travel_estimate": estimate,
        "workload": workload,
        "familiarity": familiarity,
        "officers": [
            {
                "id": o["id"],
                "name": o["name"],
                "cert_no": o["cert_no"],
                "distance_m": o["distance_m"],
                "position_source": o["position_source"],
                "tasks_today": o["tasks_today"],
                "lon": o["lon"],
                "lat": o["lat"],
            }
            for o in crew
        ],
        "reasons": _reasons(travel, estimate, workload, familiarity, lang),
    }


ESTIMATES = {
    "live": ("按实时定位", "from live positions"),
    "township": ("按所在街镇中心估算", "estimated from township centres"),
    "mixed": ("部分按所在街镇中心估算", "partly estimated from township centres"),
}


def _reasons(travel: Any, estimate: str, workload: Any, familiarity: Any, lang: str) -> list[str]:
    how = ESTIMATES[estimate][0 if lang == "zh" else 1]
    if lang == "zh":
        return [
            f"合计路程约 {travel / 1000:.1f} 公里（{how}）",
            f"今日已有任务 {workload} 项",
            f"在该街镇完成检查 {familiarity} 次",
            "均持有效执法证、在岗、辖区覆盖、无需回避",
        ]
    return [
        f"about {travel / 1000:.1f} km of travel in all ({how})",
        f"{workload} task(s) today already",
        f"{familiarity} completed inspection(s) in this township",
        "all certified, on duty, covering the township, not recused",
    ]
