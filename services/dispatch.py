"""Dispatch's use cases, for every door (REST, the dispatcher's pages, the CLI, batch): each asks
geo.access.policy whether the caller may act, carries the action out in the core, queues the
task's text for the crew's terminals (JT/T 808 0x8300) and tells the notifier, which pushes the
change to live clients and wakes the process holding the terminals.

A unit-scoped dispatcher acts on his units' tasks (and the unassigned ones they could take)
and sends only his units' officers; overriding the rules is for administrators alone."""

from __future__ import annotations

from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.dispatch import batch, crews, random_plan, registers, tasks
from geo.infra import audit
from geo.infra.errors import Forbidden
from geo.telemetry import downlink
from services.context import Context


def create(ctx: Context, scope: Scope | None, **task: Any) -> dict[str, Any]:
    """A new inspection task (dispatch.create_task's arguments)."""
    who = policy.authorize(scope, "task.create")
    with ctx.session() as session:
        task_id = tasks.create_task(session, actor=who.username, **task)
    return notify(ctx, task_id)


def assign_crew(
    ctx: Context,
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
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        policy.officers_in_scope(session, who, officer_ids)
        tasks.assign(session, task_id, officer_ids, who.username, joint=joint, override_reason=override_reason)
    return notify(ctx, task_id, sender=who.username)


def reassign_crew(
    ctx: Context, scope: Scope | None, task_id: int, officer_ids: list[int], reason: str | None
) -> dict[str, Any]:
    """Another crew for a task under way, with the reason; the new crew gets the task's text."""
    who = policy.authorize(scope, "task.assign")
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        policy.officers_in_scope(session, who, officer_ids)
        tasks.reassign(session, task_id, officer_ids, who.username, reason=reason)
    return notify(ctx, task_id, sender=who.username)


def change_status(
    ctx: Context,
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
    with ctx.session() as session:
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
    return notify(ctx, task_id)


def plan(ctx: Context, scope: Scope | None, task_ids: list[int] | None = None) -> dict[str, Any]:
    """The optimal batch plan over the caller's units' crews, with the greedy comparison."""
    who = policy.authorize(scope, "task.assign")
    with ctx.session() as session:
        result = batch.plan_batch(session, task_ids, unit_ids=who.unit_ids)
        batch.describe(session, result.assignments)
    greedy = result.greedy or {"total_travel_m": 0, "assigned": 0}
    return {
        **result.as_dict(),
        "greedy_total_travel_m": round(greedy["total_travel_m"]),
        "greedy_assigned": greedy["assigned"],
    }


def commit(ctx: Context, scope: Scope | None, assignments: list[dict[str, Any]]) -> dict[str, Any]:
    who = policy.authorize(scope, "task.assign")
    with ctx.session() as session:
        policy.officers_in_scope(session, who, [o for a in assignments for o in a["officer_ids"]])
        result = batch.commit_plan(session, assignments, who.username)
    for task_id in result["assigned"]:
        notify(ctx, task_id, sender=who.username)
    return result


def notify(ctx: Context, task_id: int, *, sender: str | None = None) -> dict[str, Any]:
    """Push the task's change live; on an assignment (sender given), also queue the task for
    its crew's JT/T 808 terminals (the outbox, geo/downlink.py) and wake the ingest process
    that holds them. Returns the task's view with what was queued and what was sent."""
    with ctx.session() as session:
        view = tasks.task_view(session, task_id)
        phones = tasks.crew_terminals(session, task_id) if sender and view["status"] == "assigned" else []
        message = tasks.task_message(session, task_id) if phones else ""
        queued = downlink.queue_texts(session, phones, message, sender or "", task_id) if phones else {}
        units = tasks.task_units(session, task_id)
    sent = ctx.notifier.texts_queued(list(queued)) if queued else set()
    ctx.notifier.task_changed(view, units)
    return {
        **view,
        "notified": {
            "terminals": phones,
            "delivered": sorted(queued[m] for m in sent if m in queued),
            "queued": sorted(queued[m] for m in queued if m not in sent),  # sent when they next log in
        },
    }


def recuse(ctx: Context, scope: Scope | None, officer_id: int, target_id: int, reason: str) -> dict[str, Any]:
    """Register a conflict of interest (回避): the officer is never sent to the target."""
    who = policy.authorize(scope, "recusal.add")
    with ctx.session() as session:
        policy.officers_in_scope(session, who, [officer_id])
        registers.recuse(session, officer_id, target_id, reason, who.username)
    return {"officer_id": officer_id, "target_id": target_id}


def draw_plan(ctx: Context, scope: Scope | None, *, preview: bool = False, **plan: Any) -> dict[str, Any]:
    """Draw a random plan (双随机) from the caller's units' inspectors; with preview, the same
    draw is made and rolled back, so the dispatcher sees what the seed gives before it counts."""
    who = policy.authorize(scope, "plan.draw")
    with ctx.session() as session:
        savepoint = session.begin_nested() if preview else None
        summary = random_plan.draw(session, actor=who.username, unit_ids=who.unit_ids, **plan)
        if savepoint is not None:
            savepoint.rollback()
            summary = {**summary, "plan_id": None, "preview": True}
    return summary


def plans(ctx: Context, scope: Scope | None) -> list[dict[str, Any]]:
    """The random plans in the caller's scope with their progress."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        return random_plan.progress(session, who.unit_ids)


def recusals(ctx: Context, scope: Scope | None) -> list[dict[str, Any]]:
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        return registers.recusals(session, who.unit_ids)


def task(ctx: Context, scope: Scope | None, task_id: int) -> dict[str, Any]:
    """A task with its crew and events, if it is in the caller's scope."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        return tasks.task_view(session, task_id)


def candidates(ctx: Context, scope: Scope | None, task_id: int, limit: int = 5, lang: str = "zh") -> dict[str, Any]:
    """Ranked lawful crews of the caller's units for a task in his scope, with their reasons,
    and the officers excluded with the rule that excluded each."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        policy.task_in_scope(session, who, task_id)
        return crews.candidates(session, task_id, limit, lang, who.unit_ids)


def plan_csv(ctx: Context, scope: Scope | None, plan_id: int) -> str:
    """A random plan's list and results for publication (公开), audited."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        policy.plan_in_scope(session, who, plan_id)
        body = random_plan.plan_csv(session, plan_id)
        audit.record(session, who.username, "plan_export", subject=f"plan:{plan_id}", source=ctx.source)
    return body
