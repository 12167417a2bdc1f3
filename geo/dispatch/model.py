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

This module holds the task: its statuses, transitions, labels, rules, errors, its row and its history."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import errors
from geo.infra.timezone import BEIJING

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


# -- assignment and lifecycle ---------------------------------------------------------
REASSIGNABLE = ("assigned", "accepted", "en_route")
