"""REST routes of dispatch: inspection tasks, lawful crews, batch plans, recusals and random
inspection plans. The actions live in dashboard.dispatching (shared with the dispatcher
page), the rules in geo.dispatch and geo.policy; their errors answer for themselves
(422 names each broken rule, 409 a race, 403/404 scope, 400 bad input)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Response, request
from pydantic import Field

from dashboard.context import runtime, scope, services
from dashboard.rest.router import Router
from dashboard.rest.types import Code, Id, IsoTime, Listing, Model, Query, Text
from geo.access import policy
from geo.dispatch import model, tasks
from geo.infra.errors import InvalidInput
from services import dispatch as dispatching

router = Router()


class Complaint(Model):
    """投诉举报: who called and what they reported."""

    caller: Text | None = None
    phone: Text | None = Field(None, max_length=40)
    report: Text | None = None


class NewInspection(Model):
    target_id: Id
    domain: Code = Field(description="enforcement domain key, e.g. market")
    due_at: IsoTime
    items: list[Code] = Field(default_factory=list, max_length=50, description="inspection item codes (power list)")
    priority: int = Field(2, ge=1, le=3, description="1 urgent, 2 normal, 3 low")
    crew_size: int = Field(2, ge=2, le=10, description="two or more certified officers (行政处罚法 第四十二条)")
    source: Literal["api", "map", "complaint", "bulk"] | None = None
    complaint: Complaint | None = None
    note: Text | None = None


class TaskView(Model):
    model_config = Model.model_config | {"extra": "allow"}
    id: int
    status: str


@router.route(
    "POST",
    "/inspections",
    permission="task.create",
    body=NewInspection,
    response=TaskView,
    status=201,
    summary="Create an inspection task (from a complaint, the map, in bulk or by API); an Idempotency-Key "
    "header makes a retried request return the task the first one made",
)
def create_inspection(body: NewInspection) -> Any:
    complaint = body.complaint.model_dump(exclude_none=True) if body.complaint else None
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key is 1 to 200 characters")
    return dispatching.create(
        services(),
        scope(),
        target_id=body.target_id,
        domain_key=body.domain,
        due_at=body.due_at,
        items=body.items,
        priority=body.priority,
        crew_size=body.crew_size,
        source=body.source or ("complaint" if complaint else "api"),
        complaint=complaint,
        note=body.note,
        request_key=key,
    )


class QueueQuery(Query):
    status: Literal["open", "all", *model.STATUSES] = "open"  # type: ignore[valid-type]
    limit: int = Field(500, ge=1, le=5000)


@router.route(
    "GET",
    "/inspections",
    permission="view",
    query=QueueQuery,
    response=Listing,
    summary="The queue by priority then due time: ?status=open|all|<status>",
)
def list_inspections(query: QueueQuery) -> Any:
    with runtime().session() as session:
        listing = policy.task_listing(scope())
        return {"inspections": tasks.list_tasks(session, status=query.status, limit=query.limit, **listing)}


@router.route(
    "GET",
    "/inspections/<id:task_id>",
    permission="view",
    response=TaskView,
    summary="A task with its crew and timestamped events",
)
def get_inspection(task_id: int) -> Any:
    return dispatching.task(services(), scope(), task_id)


class CandidatesQuery(Query):
    limit: int = Field(5, ge=1, le=50)
    lang: Literal["zh", "en"] = "zh"


@router.route(
    "GET",
    "/inspections/<id:task_id>/candidates",
    permission="view",
    query=CandidatesQuery,
    summary="Ranked lawful crews with reasons; excluded officers with the rule that excluded each",
)
def inspection_candidates(task_id: int, query: CandidatesQuery) -> Any:
    return dispatching.candidates(services(), scope(), task_id, query.limit, query.lang)


class Assignment(Model):
    officer_ids: list[Id] = Field(min_length=1, max_length=20)
    joint: bool = False
    override_reason: Text | None = Field(None, description="administrators only: why the rules are overridden")


@router.route(
    "POST",
    "/inspections/<id:task_id>/assign",
    permission="task.assign",
    body=Assignment,
    response=TaskView,
    summary="Send a crew; 422 names the broken rules, 409 if someone else was first",
)
def assign_inspection(task_id: int, body: Assignment) -> Any:
    return dispatching.assign_crew(
        services(), scope(), task_id, body.officer_ids, joint=body.joint, override_reason=body.override_reason
    )


class Reassignment(Model):
    officer_ids: list[Id] = Field(min_length=1, max_length=20)
    reason: Text = Field(description="why the crew changes (rule reassign_reason)")


@router.route(
    "POST",
    "/inspections/<id:task_id>/reassign",
    permission="task.assign",
    body=Reassignment,
    response=TaskView,
    summary="Send another crew to a task assigned, accepted or en route, with the reason (the rules apply)",
)
def reassign_inspection(task_id: int, body: Reassignment) -> Any:
    return dispatching.reassign_crew(services(), scope(), task_id, body.officer_ids, body.reason)


class StatusChange(Model):
    status: Literal[*model.TRANSITIONS]  # type: ignore[valid-type]
    result: Literal[*model.RESULTS] | None = None  # type: ignore[valid-type]
    comment: Text | None = None
    reason: Text | None = Field(
        None,
        description="required when the status is recorded for the crew by someone not in it, and for on site "
        "without a crew fix near the target (rules on_behalf_reason, arrival_fix)",
    )


@router.route(
    "POST",
    "/inspections/<id:task_id>/status",
    permission="task.status",
    body=StatusChange,
    response=TaskView,
    summary="Move a task: accepted, declined, en_route, on_site, completed (with result), cancelled",
)
def inspection_status(task_id: int, body: StatusChange) -> Any:
    return dispatching.change_status(
        services(), scope(), task_id, body.status, result=body.result, comment=body.comment, reason=body.reason
    )


class BatchPlanRequest(Model):
    inspection_ids: list[Id] | None = Field(None, max_length=5000, description="default: every open task")


@router.route(
    "POST",
    "/inspections/batch/plan",
    permission="task.assign",
    body=BatchPlanRequest,
    summary="The optimal plan (minimum total travel) for open tasks, with the greedy comparison",
)
def batch_plan(body: BatchPlanRequest) -> Any:
    return dispatching.plan(services(), scope(), body.inspection_ids)


class PlannedAssignment(Model):
    model_config = Model.model_config | {"extra": "ignore"}  # the plan's own fields come back too
    inspection_id: Id
    officer_ids: list[Id] = Field(min_length=1, max_length=20)


class BatchCommit(Model):
    assignments: list[PlannedAssignment] = Field(max_length=5000)


@router.route(
    "POST",
    "/inspections/batch/commit",
    permission="task.assign",
    body=BatchCommit,
    summary="Commit a plan's assignments; every rule is checked again",
)
def batch_commit(body: BatchCommit) -> Any:
    return dispatching.commit(services(), scope(), [a.model_dump() for a in body.assignments])


class Recusal(Model):
    officer_id: Id
    target_id: Id
    reason: Text = Field(min_length=1)


@router.route(
    "POST",
    "/recusals",
    permission="recusal.add",
    body=Recusal,
    status=201,
    summary="Register a conflict of interest (回避): the officer is never sent to the target",
)
def add_recusal(body: Recusal) -> Any:
    return dispatching.recuse(services(), scope(), body.officer_id, body.target_id, body.reason)


class PlanRequest(Model):
    name: Text = "双随机抽查"
    seed: Text = Field("", description="published, so anyone can redo the draw (required)")
    share: float = Field(gt=0, le=1, allow_inf_nan=False, description="share of the population, e.g. 0.05")
    due_at: IsoTime | None = Field(None, description="default a week from now")
    domains: list[Code] | None = None
    townships: list[Code] | None = None
    risks: list[Literal[1, 2, 3, 4]] | None = None


@router.route(
    "POST",
    "/plans",
    permission="plan.draw",
    body=PlanRequest,
    status=201,
    summary="Draw a random inspection plan (双随机): targets and inspectors at random, reproducible from the seed",
)
def draw_plan(body: PlanRequest) -> Any:
    return dispatching.draw_plan(
        services(),
        scope(),
        name=body.name,
        seed=body.seed,
        share=body.share,
        due_at=body.due_at or dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
        domains=body.domains,
        townships=body.townships,
        risks=list(body.risks or []),
    )


@router.route(
    "GET",
    "/plans/<id:plan_id>.csv",
    permission="view",
    produces="text/csv",
    summary="A plan's list and results, for publication (audited)",
)
def plan_export(plan_id: int) -> Response:
    body = dispatching.plan_csv(services(), scope(), plan_id)
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=plan-{plan_id}.csv"},
    )
