"""Inspection tasks: created, loaded, assigned and reassigned under row locks, moved through their
lifecycle, listed and viewed; the texts sent to the crew's terminals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.items import store
from geo.coverage import facts
from geo.dispatch.arrivals import crew_near_target
from geo.dispatch.crews import crew_violations, officer_pool
from geo.dispatch.model import (
    ASSIGNABLE,
    CREW_STATUSES,
    REASSIGNABLE,
    RESULTS,
    RULES,
    STATUSES,
    TRANSITIONS,
    Conflict,
    DispatchError,
    NotFound,
    Refused,
    Task,
    _event,
    _zh,
    load_task,
)
from geo.infra import audit, errors
from geo.infra.timezone import BEIJING


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
        facts.record_completion(session, task_id)
    audit.record(session, actor, f"inspection_{to_status}", subject=f"inspection:{task_id}", detail=detail)
    return load_task(session, task_id)


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
    out["check_points"] = store.check_points(session, codes)
    return out


def list_tasks(
    session: Session,
    unit_ids: list[int] | None = None,
    status: str = "open",
    limit: int = 500,
    *,
    crew_of: int | None = None,
) -> list[dict[str, Any]]:
    """The queue, by priority then due time. status: open (not completed or cancelled), all,
    or one status. A unit-scoped dispatcher sees his units' tasks and the unassigned ones his
    units could take; with crew_of, only the tasks that officer is crew on (0: none)."""
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
          AND (CAST(:crew AS int) IS NULL OR EXISTS (SELECT 1 FROM inspection_officer c
                                                     WHERE c.inspection_id = i.id AND c.officer_id = :crew))
        ORDER BY i.priority, i.due_at, i.id LIMIT :limit
        """
            ),
            {"units": unit_ids, "limit": limit, "status": status, "crew": crew_of},
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
