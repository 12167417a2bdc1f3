"""Dispatch actions shared by the REST API and the dispatcher page: one place checks the
caller's scope, carries out the action, notifies the crew's terminals (JT/T 808 0x8300) and
pushes the task's change to live clients.

A unit-scoped dispatcher acts on his units' tasks (and the unassigned ones they could take)
and sends only his units' officers; overriding the rules is for administrators alone."""

from __future__ import annotations

from flask import current_app

from geo import dispatch, dispatch_batch
from geo.accounts import Scope

DISPATCHING = ("admin", "dispatcher")
CREATING = ("admin", "dispatcher", "operator")  # operators raise tasks from the command map


class Forbidden(PermissionError):
    """The caller may not do this (HTTP 403)."""


def _runtime():
    return current_app.extensions["lawgrid"]


def check_task_scope(session, scope: Scope, task_id: int) -> None:
    if not scope.district_wide and not dispatch.task_units(session, task_id) & scope.unit_ids:
        raise dispatch.NotFound(f"no inspection {task_id} in your scope")


def check_officer_scope(session, scope: Scope, officer_ids: list[int]) -> None:
    if not scope.district_wide and not dispatch.officer_units(session, officer_ids) <= scope.unit_ids:
        raise Forbidden("you may send only officers of your own units")


def create(scope: Scope, **task) -> dict:
    """A new inspection task (dispatch.create_task's arguments); raises Forbidden,
    dispatch.DispatchError or NotFound."""
    if scope.role not in CREATING:
        raise Forbidden("your role may not create inspection tasks")
    with _runtime().session() as session:
        task_id = dispatch.create_task(session, actor=scope.username, **task)
    return notify(task_id)


def assign_crew(
    scope: Scope, task_id: int, officer_ids: list[int], *, joint: bool = False, override_reason: str | None = None
) -> dict:
    """Raises Forbidden, dispatch.Refused (rules broken), Conflict (someone was first), NotFound."""
    if scope.role not in DISPATCHING:
        raise Forbidden("only dispatchers and administrators assign crews")
    if override_reason and scope.role != "admin":
        raise Forbidden("only an administrator may override the rules")
    with _runtime().session() as session:
        check_task_scope(session, scope, task_id)
        check_officer_scope(session, scope, officer_ids)
        dispatch.assign(session, task_id, officer_ids, scope.username, joint=joint, override_reason=override_reason)
    return notify(task_id)


def change_status(
    scope: Scope, task_id: int, status: str, *, result: str | None = None, comment: str | None = None
) -> dict:
    """Raises dispatch.DispatchError, Conflict (not allowed from the current status), NotFound."""
    with _runtime().session() as session:
        check_task_scope(session, scope, task_id)
        dispatch.transition(session, task_id, status, scope.username, result=result, comment=comment)
    return notify(task_id)


def plan(scope: Scope, task_ids: list[int] | None = None) -> dict:
    """The optimal batch plan over the caller's units' crews, with the greedy comparison."""
    if scope.role not in DISPATCHING:
        raise Forbidden("only dispatchers and administrators assign crews")
    with _runtime().session() as session:
        result = dispatch_batch.plan_batch(session, task_ids, unit_ids=scope.unit_ids)
        dispatch_batch.describe(session, result.assignments)
    greedy = result.greedy or {"total_travel_m": 0, "assigned": 0}
    return {
        **result.as_dict(),
        "greedy_total_travel_m": round(greedy["total_travel_m"]),
        "greedy_assigned": greedy["assigned"],
    }


def commit(scope: Scope, assignments: list[dict]) -> dict:
    if scope.role not in DISPATCHING:
        raise Forbidden("only dispatchers and administrators assign crews")
    with _runtime().session() as session:
        check_officer_scope(session, scope, [o for a in assignments for o in a["officer_ids"]])
        result = dispatch_batch.commit_plan(session, assignments, scope.username)
    for task_id in result["assigned"]:
        notify(task_id)
    return result


def notify(task_id: int) -> dict:
    """Send an assigned task to its crew's JT/T 808 terminals and push the change live;
    returns the task's view with what was notified."""
    with _runtime().session() as session:
        view = dispatch.task_view(session, task_id)
        phones = dispatch.crew_terminals(session, task_id) if view["status"] == "assigned" else []
        message = dispatch.task_message(session, task_id) if phones else ""
        units = dispatch.task_units(session, task_id)
    delivered: list[str] = []
    ingest = current_app.extensions.get("lawgrid_ingest")
    if ingest is not None and phones:
        delivered = [p for p in phones if ingest.call(ingest.service.jt808.send_text, p, message)]
    live = current_app.extensions.get("lawgrid_live")
    if live is not None:
        live.emit_inspection(view, units)
    return {**view, "notified": {"terminals": phones, "delivered": delivered}}
