"""REST routes of dispatch: inspection tasks, lawful crews, batch plans, recusals and random
inspection plans. Rule breaks are 422 naming each rule, races 409, scope 403/404, bad input
400. The actions themselves live in dashboard.dispatching, shared with the dispatcher page."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, jsonify, request

from dashboard import dispatching
from dashboard.api import OPENAPI, _parse_number, _parse_time, _runtime, api
from dashboard.auth import client_address, current_scope, requires
from dashboard.dispatching import (
    CREATING,
    DISPATCHING,
    Forbidden,
    assign_crew,
    check_officer_scope,
    check_task_scope,
)
from geo import audit, dispatch, random_plan
from geo.accounts import ROLES


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="send a JSON object (Content-Type: application/json)")
    return body


def _int_list(value, name: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        abort(400, description=f"{name} must be a list of integer ids")
    return value


def _errors(fn):
    """Run fn(); dispatch errors become their 4xx answer."""
    try:
        return fn()
    except dispatch.Refused as exc:
        lang = request.args.get("lang", "zh")
        return jsonify(
            error="refused",
            detail=str(exc),
            violations=[{**v, "reason": dispatch.RULES[v["rule"]][0 if lang == "zh" else 1]} for v in exc.violations],
        ), 422
    except Forbidden as exc:
        abort(403, description=str(exc))
    except dispatch.Conflict as exc:
        abort(409, description=str(exc))
    except dispatch.NotFound as exc:
        abort(404, description=str(exc))
    except dispatch.DispatchError as exc:
        abort(400, description=str(exc))


@api.post("/inspections")
@requires(*CREATING)
def create_inspection():
    body = _body()
    for key in ("target_id", "domain", "due_at"):
        if key not in body:
            abort(400, description="target_id, domain and due_at are required")
    if not isinstance(body["target_id"], int):
        abort(400, description="target_id must be an integer")
    due_at = _parse_time(str(body["due_at"]), "due_at")
    complaint = body.get("complaint")
    if complaint is not None and not isinstance(complaint, dict):
        abort(400, description="complaint must be an object: {caller, phone, report}")
    source = body.get("source", "complaint" if complaint else "api")
    if source not in ("api", "map", "complaint", "bulk"):
        abort(400, description="source must be api, map, complaint or bulk")
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        abort(400, description="items must be a list of inspection item codes from the power list")
    priority = _parse_number(str(body.get("priority", 2)), "priority", 1, 3)
    crew_size = _parse_number(str(body.get("crew_size", 2)), "crew_size", 2, 10)
    scope = current_scope()

    return _errors(
        lambda: (
            jsonify(
                dispatching.create(
                    scope,
                    target_id=body["target_id"],
                    domain_key=str(body["domain"]),
                    due_at=due_at,
                    items=items,
                    priority=priority,
                    crew_size=crew_size,
                    source=source,
                    complaint=complaint,
                    note=body.get("note"),
                )
            ),
            201,
        )
    )


@api.get("/inspections")
@requires(*ROLES)
def list_inspections():
    scope = current_scope()
    limit = _parse_number(request.args.get("limit", "500"), "limit", 1, 5000)
    units = None if scope.district_wide else sorted(scope.unit_ids)

    def query():
        with _runtime().session() as session:
            return jsonify(inspections=dispatch.list_tasks(session, units, request.args.get("status", "open"), limit))

    return _errors(query)


@api.get("/inspections/<int:task_id>")
@requires(*ROLES)
def get_inspection(task_id: int):
    def query():
        with _runtime().session() as session:
            check_task_scope(session, current_scope(), task_id)
            return jsonify(dispatch.task_view(session, task_id))

    return _errors(query)


@api.get("/inspections/<int:task_id>/candidates")
@requires(*ROLES)
def inspection_candidates(task_id: int):
    limit = _parse_number(request.args.get("limit", "5"), "limit", 1, 50)
    lang = request.args.get("lang", "zh")
    if lang not in ("zh", "en"):
        abort(400, description="lang must be zh or en")
    scope = current_scope()

    def query():
        with _runtime().session() as session:
            check_task_scope(session, current_scope(), task_id)
            return jsonify(dispatch.candidates(session, task_id, limit, lang, scope.unit_ids))

    return _errors(query)


@api.post("/inspections/<int:task_id>/assign")
@requires(*DISPATCHING)
def assign_inspection(task_id: int):
    body = _body()
    officer_ids = _int_list(body.get("officer_ids"), "officer_ids")
    override = body.get("override_reason")
    return _errors(
        lambda: jsonify(
            assign_crew(current_scope(), task_id, officer_ids, joint=bool(body.get("joint")), override_reason=override)
        )
    )


@api.post("/inspections/<int:task_id>/status")
@requires(*DISPATCHING, "operator")
def inspection_status(task_id: int):
    body = _body()
    return _errors(
        lambda: jsonify(
            dispatching.change_status(
                current_scope(),
                task_id,
                str(body.get("status", "")),
                result=body.get("result"),
                comment=body.get("comment"),
            )
        )
    )


@api.post("/inspections/batch/plan")
@requires(*DISPATCHING)
def batch_plan():
    body = request.get_json(silent=True) or {}
    ids = body.get("inspection_ids")
    ids = None if ids is None else _int_list(ids, "inspection_ids")
    return _errors(lambda: jsonify(dispatching.plan(current_scope(), ids)))


@api.post("/inspections/batch/commit")
@requires(*DISPATCHING)
def batch_commit():
    assignments = _body().get("assignments")
    if not isinstance(assignments, list) or not all(
        isinstance(a, dict) and isinstance(a.get("inspection_id"), int) for a in assignments
    ):
        abort(400, description="assignments must be the plan's list of {inspection_id, officer_ids}")
    for a in assignments:
        _int_list(a.get("officer_ids"), "officer_ids")
    return _errors(lambda: jsonify(dispatching.commit(current_scope(), assignments)))


@api.post("/recusals")
@requires("admin", "dispatcher", "supervisor")
def add_recusal():
    body = _body()
    if not isinstance(body.get("officer_id"), int) or not isinstance(body.get("target_id"), int):
        abort(400, description="officer_id and target_id (integers) and reason are required")
    scope = current_scope()

    def do():
        with _runtime().session() as session:
            check_officer_scope(session, scope, [body["officer_id"]])
            dispatch.recuse(session, body["officer_id"], body["target_id"], str(body.get("reason", "")), scope.username)
        return jsonify(officer_id=body["officer_id"], target_id=body["target_id"]), 201

    return _errors(do)


@api.post("/plans")
@requires(*DISPATCHING)
def draw_plan():
    body = _body()
    try:
        share = float(body.get("share"))
    except (TypeError, ValueError):
        abort(400, description="share must be a number, e.g. 0.05 for 5 %")
    due_at = _parse_time(str(body.get("due_at", "")), "due_at") or (dt.datetime.now(dt.UTC) + dt.timedelta(days=7))
    scope = current_scope()

    def do():
        with _runtime().session() as session:
            return jsonify(
                random_plan.draw(
                    session,
                    name=str(body.get("name") or "双随机抽查"),
                    seed=str(body.get("seed", "")),
                    share=share,
                    due_at=due_at,
                    actor=scope.username,
                    domains=body.get("domains"),
                    townships=body.get("townships"),
                    risks=body.get("risks"),
                    unit_ids=scope.unit_ids,
                )
            ), 201

    return _errors(do)


@api.get("/plans/<int:plan_id>.csv")
@requires(*ROLES)
def plan_export(plan_id: int):
    def do():
        with _runtime().session() as session:
            body = random_plan.plan_csv(session, plan_id)
            audit.record(
                session, current_scope().username, "plan_export", subject=f"plan:{plan_id}", source=client_address()
            )
        return Response(
            "\ufeff" + body,
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=plan-{plan_id}.csv"},
        )

    return _errors(do)


OPENAPI["paths"].update(
    {
        "/api/inspections": {
            "get": {"summary": "The queue: ?status=open|all|<status>&limit="},
            "post": {"summary": "Create a task: {target_id, domain, due_at, items, priority, crew_size, complaint}"},
        },
        "/api/inspections/{id}": {"get": {"summary": "A task with its crew and timestamped events"}},
        "/api/inspections/{id}/candidates": {
            "get": {"summary": "Ranked lawful crews with reasons; excluded officers with the rule that excluded each"}
        },
        "/api/inspections/{id}/assign": {
            "post": {
                "summary": "{officer_ids, joint, override_reason (admin)}; 422 names"
                " the broken rules, 409 if someone else was first"
            }
        },
        "/api/inspections/{id}/status": {
            "post": {
                "summary": "{status, result, comment}: accepted, declined, en_route,"
                " on_site, completed (with result), cancelled"
            }
        },
        "/api/inspections/batch/plan": {"post": {"summary": "Optimal plan for open tasks {inspection_ids?}"}},
        "/api/inspections/batch/commit": {"post": {"summary": "Commit a plan's {assignments}; rules re-checked"}},
        "/api/recusals": {"post": {"summary": "Register a conflict of interest {officer_id, target_id, reason}"}},
        "/api/plans": {
            "post": {"summary": "Random inspection plan {name, seed, share, due_at, domains, townships, risks}"}
        },
        "/api/plans/{id}.csv": {"get": {"summary": "The plan's list and results, for publication (audited)"}},
    }
)
