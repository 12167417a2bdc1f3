"""Who may do what: the one place that decides. The REST API, the Dash pages, the CLI and
the batch paths all ask here, so a rule changes in one line.

`authorize(scope, permission)` answers the role question; the `*_in_scope` functions answer
the unit-scope question for one object (outside the scope looks the same as absent: 404);
`may_send` and `may_override` answer the dispatch questions. Each refusal is an error of
`geo.errors` naming its rule; the caller's transaction rolls back, so the refusal is audited
by `record_refusal` in a transaction of its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.access.accounts import ROLES, Scope
from geo.dispatch import tasks
from geo.infra import audit
from geo.infra.errors import Forbidden, LawGridError, NotFound, Unauthorized
from geo.telemetry import fleet

EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    # reading the map, live state, coverage and tasks, inside the caller's scope
    "view": EVERYONE,
    "ingest.stats": frozenset({"admin", "operator"}),
    "audit.read": frozenset({"auditor", "admin"}),
    "alarm.act": frozenset({"operator", "admin", "dispatcher", "supervisor"}),
    # operators raise tasks from the command map; dispatchers send crews
    "task.create": frozenset({"admin", "dispatcher", "operator"}),
    "task.assign": frozenset({"admin", "dispatcher"}),
    # crews move their own tasks (officers, on their own tasks only); desk roles record a
    # status on the crew's behalf with a reason (geo.dispatch.transition)
    "task.status": frozenset({"admin", "dispatcher", "operator", "officer"}),
    "task.override": frozenset({"admin"}),
    "plan.draw": frozenset({"admin", "dispatcher"}),
    "recusal.add": frozenset({"admin", "dispatcher", "supervisor"}),
    "user.manage": frozenset({"admin"}),
    # cases (办案): each step names one of these (geo.cases.ACTIONS); scope is the case's unit
    "case.view": EVERYONE,
    "case.source": frozenset({"admin", "operator", "dispatcher", "supervisor", "officer", "organ_head"}),
    "case.manage": frozenset({"supervisor", "organ_head"}),  # 办案机构负责人: verify sources, receive 备案
    "case.approve": frozenset({"organ_head"}),  # 行政机关负责人: 立案, approvals, decisions, 结案
    "case.handle": frozenset({"officer"}),  # 办案人员, and only on their own cases
    "case.review": frozenset({"legal_reviewer", "case_reviewer"}),
    "case.hearing": frozenset({"hearing_officer"}),
    "case.oversee": frozenset({"oversight", "leader", "auditor", "admin", "supervisor", "organ_head"}),
    "calendar.manage": frozenset({"admin"}),
    # supervision (监督考核): indicators and their records; unit roles see their own units
    "supervision.view": frozenset({"oversight", "leader", "auditor", "admin", "supervisor", "organ_head"}),
    # the supervising organ (司法行政部门) opens supervision cases, issues instruments, records
    # officer measures; the supervised unit's heads answer
    "supervision.manage": frozenset({"oversight"}),
    "supervision.reply": frozenset({"organ_head", "supervisor"}),
}


def system_scope(actor: str) -> Scope:
    """The command line acts district-wide with the rights of whoever runs it on the server."""
    return Scope(user_id=0, username=actor, role="admin", unit_ids=None)


def allowed(scope: Scope | None, permission: str) -> bool:
    return scope is not None and scope.role in PERMISSIONS[permission]


def authorize(scope: Scope | None, permission: str) -> Scope:
    """The scope, if its role holds the permission; otherwise Unauthorized or Forbidden."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if scope is None:
        raise Unauthorized("log in first (session) or send a bearer token")
    if scope.role not in PERMISSIONS[permission]:
        raise Forbidden(
            f"the {scope.role} role may not do this ({permission})",
            rule=f"role:{permission}",
            zh=f"您的角色无权执行此操作（{permission}）",
        )
    return scope


def may_override(scope: Scope) -> None:
    """Overriding the lawful-crew rules is for administrators alone (and is audited)."""
    if not allowed(scope, "task.override"):
        raise Forbidden("only an administrator may override the rules", rule="role:task.override")


def task_listing(scope: Scope) -> dict[str, Any]:
    """The task list's scope: the caller's units, or for a personal role the tasks he is crew
    on (a reviewer or a hearing officer: none)."""
    if scope.personal:
        return {"unit_ids": None, "crew_of": scope.officer_id or 0}
    return {"unit_ids": None if scope.district_wide else sorted(_units(scope)), "crew_of": None}


def task_in_scope(session: Session, scope: Scope, task_id: int) -> None:
    """A task is in scope if it is assigned to one of the caller's units, or unassigned and
    one of his units could take it; a personal role (an officer) sees only the tasks he is
    crew on."""
    if scope.personal:
        crew = session.execute(
            text("SELECT 1 FROM inspection_officer WHERE inspection_id = :i AND officer_id = :o"),
            {"i": task_id, "o": scope.officer_id},
        ).first()
        if crew is None:
            raise NotFound(f"no inspection {task_id} of yours", rule="crew_scope")
        return
    if scope.district_wide:
        if session.execute(text("SELECT 1 FROM inspection WHERE id = :i"), {"i": task_id}).first() is None:
            raise NotFound(f"no inspection {task_id}")
        return
    if not tasks.task_units(session, task_id) & _units(scope):
        raise NotFound(
            f"no inspection {task_id} in your scope", rule="unit_scope", zh=f"您的单位范围内没有任务 #{task_id}"
        )


def officers_in_scope(session: Session, scope: Scope, officer_ids: Iterable[int]) -> None:
    """A unit-scoped caller sends only his own units' officers."""
    if scope.district_wide:
        return
    if not tasks.officer_units(session, list(officer_ids)) <= _units(scope):
        raise Forbidden("you may send only officers of your own units", rule="unit_scope", zh="只能派本单位的执法人员")


def plan_in_scope(session: Session, scope: Scope, plan_id: int) -> None:
    """A random plan is in scope if any of its tasks is; district-wide roles see every plan."""
    exists = session.execute(text("SELECT 1 FROM random_plan WHERE id = :p"), {"p": plan_id}).first()
    if exists is None:
        raise NotFound(f"no plan {plan_id}")
    if scope.district_wide:
        return
    mine = session.execute(
        text(
            """SELECT 1 FROM inspection i
           LEFT JOIN power_item p ON i.unit_id IS NULL AND p.domain_key = i.domain_key
           WHERE i.plan_id = :p AND coalesce(i.unit_id, p.unit_id) = ANY(:u) LIMIT 1"""
        ),
        {"p": plan_id, "u": sorted(_units(scope))},
    ).first()
    if mine is None:
        raise NotFound(f"no plan {plan_id} in your scope", rule="unit_scope")


def own_device(session: Session, scope: Scope, device_id: int) -> bool:
    """Whether the device is bound to the caller's own officer record (his terminal or camera)."""
    owner = session.execute(text("SELECT officer_id FROM device WHERE id = :d"), {"d": device_id}).scalar()
    return owner is not None and owner == scope.officer_id


def device_in_scope(session: Session, scope: Scope, device_id: int) -> None:
    if not fleet.device_visible(session, scope, device_id):
        raise NotFound(f"no device {device_id} in your scope", rule="unit_scope")


def _units(scope: Scope) -> frozenset[int]:
    return scope.unit_ids or frozenset()


REFUSAL_STATUSES = frozenset({403, 404, 409, 422})  # failed logins have their own entries


def record_refusal(
    sessions: sessionmaker[Session], actor: str, exc: LawGridError, *, subject: str, source: str
) -> None:
    """Audit a refusal in its own transaction (the request's own has rolled back).
    Plain 400s (malformed input) and 404s that name no rule are not refusals of a person's
    wish, so they are not recorded; everything a rule or role refused is."""
    if exc.status not in REFUSAL_STATUSES or (exc.status == 404 and not exc.rule):
        return
    detail = {"status": exc.status, "error": exc.code, "rule": exc.rule, "detail": exc.detail[:500]}
    with sessions() as session, session.begin():
        audit.record(session, actor, "refused", subject=subject, detail=detail, source=source)
