"""REST routes of cases (办案): sources, filing, every step of the procedure, reviews, the
simple procedure, warnings and the working-day calendar. The rules live in geo.cases (one
path for the API, the pages and the CLI); a refusal is 422 naming each rule, a stale version
or a lost race 409, another unit's case 404, a role's limit 403."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from dashboard.context import runtime, scope, services
from dashboard.rest.router import Router, json_body
from dashboard.rest.types import Code, Id, Listing, Model, Query
from geo.cases import forms, machine, sources, views, workdays
from geo.cases.steps import review
from geo.infra.errors import InvalidInput
from geo.infra.requests import parse
from services import calendar as calendar_uses
from services import cases as case_uses

router = Router()


class CaseView(Model):
    model_config = Model.model_config | {"extra": "allow"}
    id: int
    status: str
    version: int


class SourceQuery(Query):
    status: Literal["open", "registered", "verifying", "filed", "not_filed", "transferred"] | None = "open"
    limit: int = Field(200, ge=1, le=2000)
    q: str | None = Field(None, min_length=1, max_length=100, description="the party, the place or the summary")
    order: Literal["due", "newest"] = "due"


@router.route(
    "POST",
    "/case-sources",
    permission="case.source",
    body=sources.NewSource,
    status=201,
    summary="Register a case source (complaint, report, transfer, assignment, monitoring)",
)
def create_source(body: sources.NewSource) -> Any:
    return case_uses.register_source(services(), scope(), body)


@router.route(
    "GET",
    "/case-sources",
    permission="case.view",
    query=SourceQuery,
    response=Listing,
    summary="Case sources with their clocks and what they are about: "
    "?status=open|registered|verifying|filed|not_filed|transferred&q=&order=due|newest",
)
def list_sources(query: SourceQuery) -> Any:
    with runtime().session() as session:
        return {"sources": sources.listing(session, scope(), query.status, query.limit, q=query.q, order=query.order)}


@router.route(
    "POST",
    "/case-sources/<id:source_id>/actions",
    permission="case.view",
    body=sources.SourceAction,
    summary="A step on a source: verify, accept (a complaint), extend, not_file, transfer, tell_reporter",
)
def source_action(source_id: int, body: sources.SourceAction) -> Any:
    return case_uses.source_action(services(), scope(), source_id, body)


@router.route(
    "POST",
    "/cases",
    permission="case.approve",
    body=forms.NewCase,
    response=CaseView,
    status=201,
    summary="File a case from a source (立案): two or more certified officers, the unit's penalty item",
)
def create_case(body: forms.NewCase) -> Any:
    return case_uses.file_case(services(), scope(), body)


@router.route(
    "POST",
    "/cases/onsite",
    permission="case.handle",
    body=forms.OnsiteCase,
    response=CaseView,
    status=201,
    summary="A simple-procedure decision on the spot (当场处罚): a warning, or ≤200 / ≤3,000 yuan",
)
def create_onsite(body: forms.OnsiteCase) -> Any:
    return case_uses.open_onsite(services(), scope(), body)


class CaseQuery(Query):
    status: str = Field("open", max_length=40, pattern=r"^[a-z_]+$", description="open, all or a status")
    unit: Id | None = None
    warning: Literal["amber", "red", "breach"] | None = None
    queue: Literal["review", "approval"] | None = None
    limit: int = Field(200, ge=1, le=2000)
    offset: int = Field(0, ge=0, le=10**7)


@router.route(
    "GET",
    "/cases",
    permission="case.view",
    query=CaseQuery,
    response=Listing,
    summary="Cases by unit, status and warning, nearest deadline first",
)
def list_cases(query: CaseQuery) -> Any:
    with runtime().session() as session:
        return views.list_cases(
            session,
            scope(),
            status=query.status,
            unit_id=query.unit,
            warning=query.warning,
            queue=query.queue,
            limit=query.limit,
            offset=query.offset,
        )


@router.route(
    "GET",
    "/cases/<id:case_id>",
    permission="case.view",
    response=CaseView,
    summary="A case file: parties, officers, clocks, events, documents and the steps you may take now",
)
def get_case(case_id: int) -> Any:
    with runtime().session() as session:
        return views.case_file(session, scope(), case_id)


class StepHead(Model):
    model_config = Model.model_config | {"extra": "allow"}
    action: Code = Field(description="one of the steps listed in the case file's actions")
    version: int | None = Field(None, ge=1, description="the case version you saw; 409 if it changed")


@router.route(
    "POST",
    "/cases/<id:case_id>/actions",
    permission="case.view",
    body=StepHead,
    response=CaseView,
    summary="Take a step of the procedure: {action, version?, ...its fields}",
)
def case_action(case_id: int, body: StepHead) -> Any:
    data = dict(json_body())
    name, version = data.pop("action"), data.pop("version", None)
    step = machine.ACTIONS.get(name)
    if step is None:
        raise InvalidInput(f"action must be one of {', '.join(machine.ACTIONS)}")
    return _step(case_id, name, parse(step.body, data), version)


class ReviewBody(review.ReviewBody):
    version: int | None = Field(None, ge=1)


@router.route(
    "POST",
    "/cases/<id:case_id>/reviews",
    permission="case.review",
    body=ReviewBody,
    response=CaseView,
    status=201,
    summary="A reviewer's opinion (法制审核 / 案件审核) with the seven checked points",
)
def case_review(case_id: int, body: ReviewBody) -> Any:
    return _step(case_id, "review", review.ReviewBody(**body.model_dump(exclude={"version"})), body.version), 201


def _step(case_id: int, name: str, body: Any, version: int | None) -> Any:
    return case_uses.perform(services(), scope(), case_id, name, body, version=version)


class WarningQuery(Query):
    limit: int = Field(500, ge=1, le=5000)
    unit: int | None = Field(None, ge=1, description="one unit of the caller's scope")
    level: Literal["amber", "red", "breach"] | None = None
    clock: str | None = Field(None, pattern=r"^[a-z_]{1,30}$", description="one kind of clock, e.g. decision")


@router.route(
    "GET",
    "/warnings",
    permission="case.view",
    query=WarningQuery,
    summary="The 预警 board: cases' warnings one by one (most severe, nearest first, with party and handlers), "
    "sources' warnings grouped and counted, counts per unit; ?unit=&level=&clock=",
)
def list_warnings(query: WarningQuery) -> Any:
    with runtime().session() as session:
        return views.warnings_board(
            session, scope(), query.limit, unit_id=query.unit, level=query.level, clock=query.clock
        )


class CalendarQuery(Query):
    start: dt.date
    end: dt.date


class CalendarView(BaseModel):
    days: list[dict[str, Any]]
    known: list[str | None] = Field(description="the first and last day the calendar holds")
    official_through: str | None = Field(description="the last day of the State Council's schedule; later: provisional")


@router.route(
    "GET",
    "/calendar",
    permission="case.view",
    query=CalendarQuery,
    response=CalendarView,
    summary="Working days and holidays between start and end, with the source of each day (provisional ones marked)",
)
def get_calendar(query: CalendarQuery) -> Any:
    with runtime().session() as session:
        first, last = workdays.known_range(session)
        official = workdays.official_range(session)[1]
        return {
            "days": workdays.days(session, query.start, query.end),
            "known": [first.isoformat() if first else None, last.isoformat() if last else None],
            "official_through": official.isoformat() if official else None,
        }


class CalendarDay(Model):
    day: dt.date
    workday: bool
    note: str | None = Field(None, max_length=200)


class CalendarBody(Model):
    days: list[CalendarDay] = Field(min_length=1, max_length=800)
    source: str = Field("administrator", min_length=1, max_length=200)


@router.route(
    "PUT",
    "/calendar",
    permission="calendar.manage",
    body=CalendarBody,
    summary="Override days or enter the next year's schedule (audited)",
)
def put_calendar(body: CalendarBody) -> Any:
    days = [workdays.Day(d.day, d.workday, d.note) for d in body.days]
    return calendar_uses.enter_days(services(), scope(), days, body.source)
