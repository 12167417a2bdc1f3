"""Inspection tasks and the lawful crew (行政处罚法 第四十二、四十三条): every assignment path
(recommendation, manual, batch, random plan) goes through the same rules here.

An officer may inspect a target only if
  unit_power   his unit holds the power for the task's domain (and items);
  certificate  his enforcement certificate is valid on the due date;
  area         his assigned area covers the target's township;
  off_duty     he is on duty;
  daily_cap    he is under his daily task cap on the due day;
  recused      he is not recused for this target (conflict-of-interest register).
A crew is at least crew_size (two or more) such officers of one unit, unless the task is a
declared joint task of several units.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import audit, coverage, errors, items
from geo.distance import haversine_m
from geo.timezone import BEIJING

RULES = {
    "unit_power": (
        "所在单位不具备该领域（事项）的执法权限",
        "his unit does not hold the power for this domain or item",
    ),
    "certificate": ("执法证在到期日无效", "his certificate is not valid on the due date"),
    "area": ("辖区不含该对象所在街镇", "his assigned area does not cover the target's township"),
    "off_duty": ("不在岗", "he is not on duty"),
    "daily_cap": ("已达当日任务上限", "he has reached his daily task cap"),
    "recused": ("与该对象存在利害关系，须回避", "he is recused for this target (conflict of interest)"),
    "one_unit": ("执法人员须属同一单位（联合执法除外）", "a crew is of one unit unless the task is joint"),
    "crew_size": ("执法人员不足规定人数", "fewer officers than the crew size"),
    "unknown_officer": ("执法人员不存在", "no such officer"),
    "on_behalf_reason": (
        "非执法人员本人记录任务状态，须说明代为记录的理由",
        "a status recorded for the crew by someone else needs the reason",
    ),
    "cancel_reason": ("取消检查任务须说明理由", "cancelling a task needs the reason"),
    "reassign_reason": ("改派执法小组须说明理由", "reassigning a task needs the reason"),
    "arrival_fix": (
        "执法人员终端未在检查对象附近定位，确认到场须说明理由",
        "no crew device has a fix near the target; say why they are on site",
    ),
}
# The statuses only the crew knows: they come from the crew's terminals or the officers' own
# sessions; anyone else recording one does so on the crew's behalf, with a reason.
CREW_STATUSES = ("accepted", "declined", "en_route", "on_site", "completed")
OPEN = ("created", "assigned", "accepted", "en_route", "on_site")
ASSIGNABLE = ("created", "declined")
TRANSITIONS = {
    "accepted": ("assigned",),
    "declined": ("assigned",),
    "en_route": ("accepted",),
    "on_site": ("accepted", "en_route"),
    "completed": ("on_site",),
    "cancelled": ("created", "assigned", "accepted", "en_route", "declined"),
}
RESULTS = ("compliant", "violation", "could_not_inspect")
STATUSES = ("created", "assigned", "accepted", "en_route", "on_site", "completed", "declined", "cancelled")
ARRIVAL_RADIUS_M = 100.0
# A task status in words (zh, en): the core's Chinese refusals and the pages' labels alike.
STATUS_LABELS = {
    "created": ("待指派", "created"),
    "assigned": ("已指派", "assigned"),
    "accepted": ("已接受", "accepted"),
    "en_route": ("在途", "en route"),
    "on_site": ("已到场", "on site"),
    "completed": ("已完成", "completed"),
    "declined": ("已拒绝", "declined"),
    "cancelled": ("已取消", "cancelled"),
}


def _zh(status: str) -> str:
    return STATUS_LABELS.get(status, (status,))[0]


class DispatchError(errors.InvalidInput):
    """A request that cannot be carried out as asked (HTTP 400)."""


NotFound = errors.NotFound
Conflict = errors.Conflict  # someone else changed the task or the officers first (HTTP 409)


class Refused(errors.Refused):
    """The crew breaks the lawful-crew rules (HTTP 422); each violation names its rule."""

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        super().__init__(violations, RULES)


@dataclass
class Task:
    id: int
    target_id: int
    domain_key: str
    items: list[str]
    due_at: dt.datetime
    crew_size: int
    status: str
    township_code: str | None
    lon: float
    lat: float
    priority: int = 2
    target_name: str = ""
    unit_id: int | None = None
    joint: bool = False
    officers: list[int] = field(default_factory=list)

    @property
    def due_day(self) -> dt.date:
        return self.due_at.astimezone(BEIJING).date()


# -- tasks ----------------------------------------------------------------------------
def create_task(
    session: Session,
    *,
    target_id: int,
    domain_key: str,
    due_at: dt.datetime,
    actor: str,
    items: list[str] | None = None,
    priority: int = 2,
    crew_size: int = 2,
    source: str = "api",
    complaint: dict[str, Any] | None = None,
    plan_id: int | None = None,
    note: str | None = None,
    request_key: str | None = None,
) -> int:
    """A new task's id. With `request_key`, the same actor asking again with the same key (a
    double click, a retried request) gets the task the first request made, and no second."""
    items = list(items or [])
    if crew_size < 2:
        raise DispatchError("an inspection needs at least two certified officers (行政处罚法 第四十二条)")
    if priority not in (1, 2, 3):
        raise DispatchError("priority is 1 (urgent), 2 (normal) or 3 (low)")
    if due_at.tzinfo is None:
        raise DispatchError("due time needs a time zone")
    target = session.execute(text("SELECT id FROM target WHERE id = :t"), {"t": target_id}).first()
    if target is None:
        raise NotFound(f"no target {target_id}")
    if not session.execute(text("SELECT 1 FROM power_item WHERE domain_key = :d LIMIT 1"), {"d": domain_key}).first():
        raise DispatchError(f"no unit holds a power in domain {domain_key!r}")
    if items:
        known = set(
            session.execute(
                text("SELECT item_code FROM power_item WHERE domain_key = :d AND item_code = ANY(:i)"),
                {"d": domain_key, "i": items},
            ).scalars()
        )
        unknown = [i for i in items if i not in known]
        if unknown:
            raise DispatchError(f"not on the power list of {domain_key}: {', '.join(unknown)}")
    task_id = session.execute(
        text(
            """
        INSERT INTO inspection (target_id, domain_key, items, source, complaint, plan_id, priority, due_at,
                                crew_size, created_by, note, request_key)
        VALUES (:t, :d, :i, :src, CAST(:c AS jsonb), :p, :pr, :due, :n, :by, :note, :key)
        ON CONFLICT (created_by, request_key) WHERE request_key IS NOT NULL DO NOTHING
        RETURNING id
        """
        ),
        dict(
            t=target_id,
            d=domain_key,
            i=items,
            src=source,
            p=plan_id,
            pr=priority,
            due=due_at,
            n=crew_size,
            by=actor,
            note=note,
            key=request_key,
            c=json.dumps(complaint, ensure_ascii=False) if complaint else None,
        ),
    ).scalar()
    if task_id is None:  # this actor's request with this key made its task already
        return int(
            session.execute(
                text("SELECT id FROM inspection WHERE created_by = :by AND request_key = :k"),
                {"by": actor, "k": request_key},
            ).scalar_one()
        )
    _event(session, task_id, actor, None, "created", {"source": source})
    audit.record(
        session,
        actor,
        "inspection_create",
        subject=f"inspection:{task_id}",
        detail={"target": target_id, "domain": domain_key, "source": source},
    )
    return int(task_id)


def load_task(session: Session, task_id: int, *, lock: bool = False) -> Task:
    row = (
        session.execute(
            text(
                f"""
        SELECT i.id, i.target_id, i.domain_key, i.items, i.due_at, i.crew_size, i.status, t.township_code,
               ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, i.priority, t.name AS target_name, i.unit_id, i.joint,
               coalesce((SELECT array_agg(officer_id ORDER BY officer_id) FROM inspection_officer
                         WHERE inspection_id = i.id), '{{}}') AS officers
        FROM inspection i JOIN target t ON t.id = i.target_id WHERE i.id = :id
        {"FOR UPDATE OF i" if lock else ""}"""
            ),
            {"id": task_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no inspection {task_id}")
    return Task(**{**row, "items": list(row["items"]), "officers": list(row["officers"])})


def _event(session: Session, task_id: int, actor: str, old: str | None, new: str, detail: dict[str, Any]) -> None:
    session.execute(
        text(
            "INSERT INTO inspection_event (inspection_id, actor, from_status, to_status, detail) "
            "VALUES (:i, :a, :f, :t, CAST(:d AS jsonb))"
        ),
        dict(i=task_id, a=actor, f=old, t=new, d=json.dumps(detail, ensure_ascii=False, default=str)),
    )


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


# -- assignment and lifecycle ---------------------------------------------------------
REASSIGNABLE = ("assigned", "accepted", "en_route")


def reassign(
    session: Session, task_id: int, officer_ids: list[int], actor: str, *, reason: str | None, joint: bool = False
) -> Task:
    """Send another crew to a task already under way (assigned, accepted, en route), with the
    reason: the old crew is released, and the new one must be lawful like any other."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.Refused([{"rule": "reassign_reason"}], RULES)
    task = load_task(session, task_id, lock=True)
    if task.status not in REASSIGNABLE:
        raise Conflict(
            f"inspection {task_id} is {task.status}; it cannot be reassigned",
            zh=f"任务 #{task_id} 当前为「{_zh(task.status)}」，不能改派",
        )
    session.execute(text("DELETE FROM inspection_officer WHERE inspection_id = :i"), {"i": task_id})
    session.execute(
        text(
            "UPDATE inspection SET status = 'created', accepted_at = NULL, en_route_at = NULL, unit_id = NULL "
            "WHERE id = :i"
        ),
        {"i": task_id},
    )
    detail = {"reason": reason, "previous_officers": task.officers}
    _event(session, task_id, actor, task.status, "created", {"reassigned": True, **detail})
    audit.record(session, actor, "inspection_reassign", subject=f"inspection:{task_id}", detail=detail)
    return assign(session, task_id, officer_ids, actor, joint=joint)


def assign(
    session: Session,
    task_id: int,
    officer_ids: list[int],
    actor: str,
    *,
    joint: bool = False,
    override_reason: str | None = None,
    via: str = "manual",
) -> Task:
    """Assign a crew under row locks: the task first, then the officers in id order, so two
    dispatchers racing for the same task or the same officer's last slot cannot both win."""
    officer_ids = sorted(set(int(i) for i in officer_ids))
    task = load_task(session, task_id, lock=True)
    if task.status not in ASSIGNABLE:
        raise Conflict(
            f"inspection {task_id} is {task.status}; it can no longer be assigned",
            zh=f"任务 #{task_id} 当前为「{_zh(task.status)}」，不能再指派",
        )
    session.execute(text("SELECT id FROM officer WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"), {"ids": officer_ids})
    pool = officer_pool(session, task, officer_ids)
    broken = crew_violations(task, pool, officer_ids, joint)
    if broken:
        if not override_reason or not override_reason.strip():
            if all(v["rule"] == "daily_cap" for v in broken):  # lost a race for the last slot
                raise Conflict("; ".join(f"{v['officer']}: {RULES['daily_cap'][1]}" for v in broken))
            raise Refused(broken)
        audit.record(
            session,
            actor,
            "inspection_override",
            subject=f"inspection:{task_id}",
            detail={"reason": override_reason, "rules": broken},
        )
    if task.status == "declined":
        session.execute(text("DELETE FROM inspection_officer WHERE inspection_id = :i"), {"i": task_id})
    units = {o["unit_id"] for o in pool}
    session.execute(
        text(
            "INSERT INTO inspection_officer (inspection_id, officer_id, due_day) "
            "SELECT :i, unnest(CAST(:ids AS int[])), :day"
        ),
        {"i": task_id, "ids": officer_ids, "day": task.due_day},
    )
    session.execute(
        text(
            "UPDATE inspection SET status = 'assigned', assigned_at = clock_timestamp(), unit_id = :u, joint = :j "
            "WHERE id = :i"
        ),
        {"i": task_id, "u": min(units) if units else None, "j": joint or len(units) > 1},
    )
    detail = {"officers": officer_ids, "via": via, "joint": joint}
    if broken:
        detail["override"] = override_reason
    _event(session, task_id, actor, task.status, "assigned", detail)
    audit.record(session, actor, "inspection_assign", subject=f"inspection:{task_id}", detail=detail)
    return load_task(session, task_id)


def transition(
    session: Session,
    task_id: int,
    to_status: str,
    actor: str,
    *,
    result: str | None = None,
    comment: str | None = None,
    officer_id: int | None = None,
    reason: str | None = None,
) -> Task:
    """Move a task. `officer_id` is the actor's own officer row (an officer's session); a
    crew status recorded by anyone not in the crew needs `reason` and is marked as recorded
    on the crew's behalf; on site needs a crew device's fix within ARRIVAL_RADIUS_M of the
    target, or a reason."""
    if to_status not in TRANSITIONS:
        raise DispatchError(f"status must be one of {', '.join(TRANSITIONS)}")
    task = load_task(session, task_id, lock=True)
    if task.status not in TRANSITIONS[to_status]:
        raise Conflict(
            f"inspection {task_id} is {task.status}; it cannot become {to_status}",
            zh=f"任务 #{task_id} 当前为「{_zh(task.status)}」，不能变为「{_zh(to_status)}」",
        )
    if to_status == "completed" and result not in RESULTS:
        raise DispatchError(f"a completed inspection needs a result: {', '.join(RESULTS)}", zh="完成检查须选择检查结果")
    reason = (reason or "").strip() or None
    on_behalf = to_status in CREW_STATUSES and (officer_id is None or officer_id not in task.officers)
    if on_behalf and not reason:
        raise errors.Refused([{"rule": "on_behalf_reason", "status": to_status}], RULES)
    if to_status == "cancelled" and not reason:
        raise errors.Refused([{"rule": "cancel_reason"}], RULES)
    if to_status == "on_site" and not reason and not crew_near_target(session, task_id):
        raise errors.Refused([{"rule": "arrival_fix"}], RULES)
    column = {
        "accepted": "accepted_at",
        "en_route": "en_route_at",
        "on_site": "on_site_at",
        "completed": "completed_at",
        "declined": "closed_at",
        "cancelled": "closed_at",
    }[to_status]
    session.execute(
        text(
            f"UPDATE inspection SET status = :s, {column} = clock_timestamp(), result = coalesce(:r, result), "
            "on_behalf = CASE WHEN :b THEN array_append(on_behalf, :s) ELSE on_behalf END WHERE id = :i"
        ),
        {"s": to_status, "r": result, "i": task_id, "b": on_behalf},
    )
    detail: dict[str, Any] = {k: v for k, v in (("result", result), ("comment", comment), ("reason", reason)) if v}
    if on_behalf:
        detail["on_behalf"] = True
    _event(session, task_id, actor, task.status, to_status, detail)
    if to_status == "completed":
        coverage.record_completion(session, task_id)
    audit.record(session, actor, f"inspection_{to_status}", subject=f"inspection:{task_id}", detail=detail)
    return load_task(session, task_id)


def crew_near_target(session: Session, task_id: int, radius_m: float = ARRIVAL_RADIUS_M) -> bool:
    """Whether a crew officer's device, online, last fixed within radius_m of the target."""
    return bool(
        session.execute(
            text(
                """SELECT EXISTS (SELECT 1 FROM inspection i JOIN target t ON t.id = i.target_id
                   JOIN inspection_officer io ON io.inspection_id = i.id
                   JOIN device d ON d.officer_id = io.officer_id JOIN device_state s ON s.device_id = d.id
                   WHERE i.id = :i AND s.state = 'online' AND ST_DWithin(s.geom::geography, t.geom::geography, :r))"""
            ),
            {"i": task_id, "r": radius_m},
        ).scalar()
    )


def detect_arrivals(
    session: Session, radius_m: float = ARRIVAL_RADIUS_M, device_ids: list[int] | None = None
) -> list[int]:
    """Crews whose live position is within radius_m of their target are on site. With
    device_ids, only those devices' positions are judged (an ingest process judges the
    devices that reported to it since its last sweep)."""
    rows = (
        session.execute(
            text(
                """
        UPDATE inspection i SET status = 'on_site', on_site_at = clock_timestamp()
        FROM target t
        WHERE t.id = i.target_id AND i.status IN ('accepted', 'en_route')
          AND EXISTS (SELECT 1 FROM inspection_officer io JOIN device d ON d.officer_id = io.officer_id
                      JOIN device_state s ON s.device_id = d.id
                      WHERE io.inspection_id = i.id AND s.state = 'online'
                        AND (CAST(:devices AS int[]) IS NULL OR d.id = ANY(CAST(:devices AS int[])))
                        AND ST_DWithin(s.geom::geography, t.geom::geography, :r))
        RETURNING i.id
        """
            ),
            {"r": radius_m, "devices": device_ids},
        )
        .scalars()
        .all()
    )
    for task_id in rows:
        prior = session.execute(
            text("SELECT to_status FROM inspection_event WHERE inspection_id = :i ORDER BY at DESC, id DESC LIMIT 1"),
            {"i": task_id},
        ).scalar()
        _event(session, task_id, "system", prior, "on_site", {"detected": "telemetry", "radius_m": radius_m})
    return list(rows)


def recusals(session: Session, unit_ids: frozenset[int] | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The recusal register (回避登记), newest first, for the caller's units' officers."""
    rows = session.execute(
        text(
            """SELECT r.officer_id, o.name AS officer, u.name AS unit, r.target_id, t.name AS target, r.reason,
                   r.created_by, r.created_at
            FROM recusal r JOIN officer o ON o.id = r.officer_id JOIN enforcement_unit u ON u.id = o.unit_id
            JOIN target t ON t.id = r.target_id
            WHERE CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[]))
            ORDER BY r.created_at DESC LIMIT :limit"""
        ),
        {"units": sorted(unit_ids) if unit_ids is not None else None, "limit": limit},
    ).mappings()
    return [dict(r, created_at=r["created_at"].isoformat()) for r in rows]


def officer_choices(session: Session, unit_ids: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Officers a caller may name (his units' own), for pickers."""
    rows = session.execute(
        text(
            """SELECT o.id, o.name, o.cert_no, u.name AS unit FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
            WHERE CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[])) ORDER BY u.code, o.name"""
        ),
        {"units": sorted(unit_ids) if unit_ids is not None else None},
    ).mappings()
    return [dict(r) for r in rows]


def target_domains(session: Session, target_id: int) -> list[dict[str, Any]]:
    """A target's domains that some unit holds a power in (a task can be raised in them)."""
    rows = session.execute(
        text(
            """SELECT d.key, d.zh, d.en FROM target t CROSS JOIN LATERAL unnest(t.domains) AS k(key)
            JOIN domain d ON d.key = k.key WHERE t.id = :t
              AND EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = d.key) ORDER BY d.key"""
        ),
        {"t": target_id},
    ).mappings()
    return [dict(r) for r in rows]


def find_targets(session: Session, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Targets whose name or credit code holds q, for pickers (complaint intake, recusals)."""
    rows = session.execute(
        text(
            """SELECT id, name, credit_code, domains, township_code FROM target
            WHERE strpos(name, :q) > 0 OR strpos(coalesce(credit_code, ''), upper(:q)) > 0
            ORDER BY length(name), id LIMIT :limit"""
        ),
        {"q": q.strip(), "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def recuse(session: Session, officer_id: int, target_id: int, reason: str, actor: str) -> None:
    if not reason.strip():
        raise DispatchError("say why the officer is recused")
    for table, key in (("officer", officer_id), ("target", target_id)):
        if session.execute(text(f"SELECT 1 FROM {table} WHERE id = :k"), {"k": key}).first() is None:
            raise NotFound(f"no {table} {key}")
    session.execute(
        text(
            "INSERT INTO recusal (officer_id, target_id, reason, created_by) VALUES (:o, :t, :r, :a) "
            "ON CONFLICT (officer_id, target_id) DO UPDATE SET reason = EXCLUDED.reason"
        ),
        dict(o=officer_id, t=target_id, r=reason, a=actor),
    )
    audit.record(
        session, actor, "recusal_add", subject=f"officer:{officer_id}", detail={"target": target_id, "reason": reason}
    )


def task_view(session: Session, task_id: int) -> dict[str, Any]:
    row = (
        session.execute(
            text(
                """
        SELECT i.id, i.status, i.result, i.priority, i.due_at, i.crew_size, i.domain_key, i.items, i.source,
               i.on_behalf,
               i.complaint, i.plan_id, i.unit_id, i.joint, i.created_by, i.created_at, i.assigned_at,
               i.accepted_at, i.en_route_at, i.on_site_at, i.completed_at, i.closed_at,
               (SELECT d.zh FROM domain d WHERE d.key = i.domain_key) AS domain_zh,
               (SELECT d.en FROM domain d WHERE d.key = i.domain_key) AS domain_en,
               t.id AS target_id, t.name AS target_name, t.credit_code, t.township_code,
               ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat,
               coalesce((SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'cert_no', o.cert_no)
                                         ORDER BY o.id)
                         FROM inspection_officer io JOIN officer o ON o.id = io.officer_id
                         WHERE io.inspection_id = i.id), '[]') AS officers,
               coalesce((SELECT json_agg(json_build_object('at', e.at, 'actor', e.actor, 'from', e.from_status,
                                                           'to', e.to_status, 'detail', e.detail) ORDER BY e.at, e.id)
                         FROM inspection_event e WHERE e.inspection_id = i.id), '[]') AS events
        FROM inspection i JOIN target t ON t.id = i.target_id WHERE i.id = :i
        """
            ),
            {"i": task_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no inspection {task_id}")
    out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    # 检查事项清单: the task's items, or the domain's inspection items when it names none
    codes = list(row["items"] or ()) or list(
        session.execute(
            text(
                "SELECT code FROM enforcement_item WHERE domain_key = :d AND power_type_key = 'inspection' "
                "AND valid_to IS NULL ORDER BY code"
            ),
            {"d": row["domain_key"]},
        ).scalars()
    )
    out["check_points"] = items.check_points(session, codes)
    return out


def list_tasks(
    session: Session, unit_ids: list[int] | None = None, status: str = "open", limit: int = 500
) -> list[dict[str, Any]]:
    """The queue, by priority then due time. status: open (not completed or cancelled), all,
    or one status. A unit-scoped dispatcher sees his units' tasks and the unassigned ones his
    units could take."""
    if status not in ("open", "all", *STATUSES):
        raise DispatchError(f"status must be open, all or one of {', '.join(STATUSES)}")
    rows = (
        session.execute(
            text(
                """
        SELECT i.id, i.status, i.result, i.priority, i.due_at, i.domain_key, d.zh AS domain_zh, d.en AS domain_en,
               i.crew_size, i.unit_id, i.source, i.target_id, t.name AS target_name, t.township_code,
               ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, i.complaint,
               coalesce((SELECT array_agg(io.officer_id ORDER BY io.officer_id) FROM inspection_officer io
                         WHERE io.inspection_id = i.id), '{}') AS officers
        FROM inspection i JOIN target t ON t.id = i.target_id JOIN domain d ON d.key = i.domain_key
        WHERE CASE :status WHEN 'open' THEN i.status NOT IN ('completed', 'cancelled')
                           WHEN 'all' THEN true ELSE i.status = :status END
          AND (CAST(:units AS int[]) IS NULL OR i.unit_id = ANY(CAST(:units AS int[]))
               OR (i.unit_id IS NULL AND EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = i.domain_key
                                                 AND p.unit_id = ANY(CAST(:units AS int[])))))
        ORDER BY i.priority, i.due_at, i.id LIMIT :limit
        """
            ),
            {"units": unit_ids, "limit": limit, "status": status},
        )
        .mappings()
        .all()
    )
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]


def crew_terminals(session: Session, task_id: int) -> list[str]:
    """JT/T 808 terminal numbers of the task's crew (they get the task as a text message)."""
    return list(
        session.execute(
            text(
                "SELECT d.identifier FROM inspection_officer io JOIN device d ON d.officer_id = io.officer_id "
                "WHERE io.inspection_id = :i AND d.protocol = 'jt808' ORDER BY d.identifier"
            ),
            {"i": task_id},
        ).scalars()
    )


def task_message(session: Session, task_id: int) -> str:
    """The text a crew's terminal shows (0x8300): what, where, by when."""
    row = (
        session.execute(
            text(
                """SELECT i.id, i.due_at, t.name, t.address, d.zh AS domain FROM inspection i
           JOIN target t ON t.id = i.target_id JOIN domain d ON d.key = i.domain_key WHERE i.id = :i"""
            ),
            {"i": task_id},
        )
        .mappings()
        .one()
    )
    return (
        f"检查任务{row['id']}：{row['domain']}，{row['name']}（{row['address'] or '见地图'}），"
        f"请于{row['due_at'].astimezone(BEIJING):%m-%d %H:%M}前到场"
    )


def officer_units(session: Session, officer_ids: list[int]) -> set[int]:
    return set(
        session.execute(
            text("SELECT DISTINCT unit_id FROM officer WHERE id = ANY(:ids)"), {"ids": list(officer_ids)}
        ).scalars()
    )


def task_units(session: Session, task_id: int) -> set[int]:
    """Units that could act on a task: its assigned unit, or every unit holding its domain."""
    return set(
        session.execute(
            text(
                """SELECT coalesce(i.unit_id, p.unit_id) FROM inspection i
           LEFT JOIN power_item p ON i.unit_id IS NULL AND p.domain_key = i.domain_key
           WHERE i.id = :i"""
            ),
            {"i": task_id},
        ).scalars()
    ) - {None}
