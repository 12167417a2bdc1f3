"""Dispatch actions shared by the REST API and the dispatcher page: each asks geo.policy
whether the caller may act, carries the action out in the core, notifies the crew's
terminals (JT/T 808 0x8300) and pushes the task's change to live clients.

A unit-scoped dispatcher acts on his units' tasks (and the unassigned ones they could take)
and sends only his units' officers; overriding the rules is for administrators alone."""

from __future__ import annotations

from typing import Any

from flask import current_app

from dashboard.rest import runtime as _runtime
from geo.access import policy
from geo.access.accounts import Scope
from geo.dispatch import batch, random_plan, registers, tasks
from geo.infra.errors import Forbidden
from geo.telemetry import downlink


def create(scope: Scope | None, **task: Any) -> dict[str, Any]:
    """A new inspection task (dispatch.create_task's arguments)."""
    who = policy.authorize(scope, "task.create")
    with _runtime().session() as session:
        task_id = tasks.create_task(session, actor=who.username, **task)
    return notify(task_id)


def assign_crew(
    scope: Scope | None,
    task_id: int,
    officer_ids: list[int],
    *,
    joint: bool = False,
    override_reason: str | None = None,
) -> dict[str, Any]:
    """Raises Forbidden, dispatch.Refused (rules broken), Conflict (someone was first), NotFound."""
    who = policy.authorize(scope, "task.assign")
    if override_reason:
        policy.may_override(who)
    with _runtime().session() as session:
        policy.task_in_scope(session, who, task_id)
        policy.officers_in_scope(session, who, officer_ids)
        tasks.assign(session, task_id, officer_ids, who.username, joint=joint, override_reason=override_reason)
    return notify(task_id, sender=who.username)


def reassign_crew(scope: Scope | None, task_id: int, officer_ids: list[int], reason: str | None) -> dict[str, Any]:
    """Another crew for a task under way, with the reason; the new crew gets the task's text."""
    who = policy.authorize(scope, "task.assign")
    with _runtime().session() as session:
        policy.task_in_scope(session, who, task_id)
        policy.officers_in_scope(session, who, officer_ids)
        tasks.reassign(session, task_id, officer_ids, who.username, reason=reason)
    return notify(task_id, sender=who.username)


def change_status(
    scope: Scope | None,
    task_id: int,
    status: str,
    *,
    result: str | None = None,
    comment: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Raises dispatch.DispatchError, Refused (on the crew's behalf without a reason; on site
    with no crew fix near and no reason), Conflict (not from the current status), NotFound."""
    who = policy.authorize(scope, "task.status")
    if who.role == "officer" and status == "cancelled":
        raise Forbidden("a crew declines a task; cancelling it is the dispatcher's", rule="role:task.cancel")
    with _runtime().session() as session:
        policy.task_in_scope(session, who, task_id)
        tasks.transition(
            session,
            task_id,
            status,
            who.username,
            result=result,
            comment=comment,
            officer_id=who.officer_id,
            reason=reason,
        )
    return notify(task_id)


def plan(scope: Scope | None, task_ids: list[int] | None = None) -> dict[str, Any]:
    """The optimal batch plan over the caller's units' crews, with the greedy comparison."""
    who = policy.authorize(scope, "task.assign")
    with _runtime().session() as session:
        result = batch.plan_batch(session, task_ids, unit_ids=who.unit_ids)
        batch.describe(session, result.assignments)
    greedy = result.greedy or {"total_travel_m": 0, "assigned": 0}
    return {
        **result.as_dict(),
        "greedy_total_travel_m": round(greedy["total_travel_m"]),
        "greedy_assigned": greedy["assigned"],
    }


def commit(scope: Scope | None, assignments: list[dict[str, Any]]) -> dict[str, Any]:
    who = policy.authorize(scope, "task.assign")
    with _runtime().session() as session:
        policy.officers_in_scope(session, who, [o for a in assignments for o in a["officer_ids"]])
        result = batch.commit_plan(session, assignments, who.username)
    for task_id in result["assigned"]:
        notify(task_id, sender=who.username)
    return result


def notify(task_id: int, *, sender: str | None = None) -> dict:
    """Push the task's change live; on an assignment (sender given), also queue the task for
    its crew's JT/T 808 terminals (the outbox, geo/downlink.py) and wake the ingest process
    that holds them. Returns the task's view with what was queued and what was sent."""
    with _runtime().session() as session:
        view = tasks.task_view(session, task_id)
        phones = tasks.crew_terminals(session, task_id) if sender and view["status"] == "assigned" else []
        message = tasks.task_message(session, task_id) if phones else ""
        queued = downlink.queue_texts(session, phones, message, sender or "", task_id) if phones else {}
        units = tasks.task_units(session, task_id)
    sent: set[int] = set()
    wake = current_app.extensions.get("lawgrid_downlink")
    if wake is not None and queued:
        sent = wake(list(queued))
    live = current_app.extensions.get("lawgrid_live")
    if live is not None:
        live.emit_inspection(view, units)
    return {
        **view,
        "notified": {
            "terminals": phones,
            "delivered": sorted(queued[m] for m in sent if m in queued),
            "queued": sorted(queued[m] for m in queued if m not in sent),  # sent when they next log in
        },
    }


def recuse(scope: Scope | None, officer_id: int, target_id: int, reason: str) -> dict[str, Any]:
    """Register a conflict of interest (回避): the officer is never sent to the target."""
    who = policy.authorize(scope, "recusal.add")
    with _runtime().session() as session:
        policy.officers_in_scope(session, who, [officer_id])
        registers.recuse(session, officer_id, target_id, reason, who.username)
    return {"officer_id": officer_id, "target_id": target_id}


def draw_plan(scope: Scope | None, *, preview: bool = False, **plan: Any) -> dict[str, Any]:
    """Draw a random plan (双随机) from the caller's units' inspectors; with preview, the same
    draw is made and rolled back, so the dispatcher sees what the seed gives before it counts."""
    who = policy.authorize(scope, "plan.draw")
    with _runtime().session() as session:
        savepoint = session.begin_nested() if preview else None
        summary = random_plan.draw(session, actor=who.username, unit_ids=who.unit_ids, **plan)
        if savepoint is not None:
            savepoint.rollback()
            summary = {**summary, "plan_id": None, "preview": True}
    return summary


def plans(scope: Scope | None) -> list[dict[str, Any]]:
    """The random plans in the caller's scope with their progress."""
    who = policy.authorize(scope, "view")
    with _runtime().session() as session:
        return random_plan.progress(session, who.unit_ids)


def recusals(scope: Scope | None) -> list[dict[str, Any]]:
    who = policy.authorize(scope, "view")
    with _runtime().session() as session:
        return registers.recusals(session, who.unit_ids)
