"""REST routes of coverage: figures per group for a window, the KPI summary, the trend, the
response-time distribution, and exports (CSV, XLSX) that are audited."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response
from pydantic import Field

from dashboard import coverage_view
from dashboard.context import client_address, runtime, scope
from dashboard.rest.router import Router
from dashboard.rest.types import Code, Id, Query
from geo.coverage import counts, model, summary, trends

router = Router()

ISO_DATE: dict[str, Any] = {"format": "date", "examples": ["2026-11-01"]}


class CoverageQuery(Query):
    """A window (start and end dates, or a period ending today) and filters inside your scope."""

    by: Literal[*model.GROUPINGS] = "unit"  # type: ignore[valid-type]
    start: str | None = Field(None, max_length=10, json_schema_extra=ISO_DATE)
    end: str | None = Field(None, max_length=10, json_schema_extra=ISO_DATE)
    period: Literal["day", "week", "month", "quarter", "year"] | None = None
    township: Code | None = None
    domain: Code | None = None
    risk: Literal[1, 2, 3, 4] | None = None
    unit: Id | None = Field(None, description="drill down into one of your units")
    blind_days: int = Field(90, ge=1, le=3650, description="summary: no inspection for this many days")
    step: Literal["day", "week", "month"] = Field("month", description="trend: the step")

    def resolve(self) -> tuple[model.Window, model.Filter]:
        args = self.model_dump()
        return coverage_view.window_from(args), coverage_view.filter_from(args, scope())


@router.route(
    "GET",
    "/coverage",
    permission="view",
    query=CoverageQuery,
    summary="Coverage per group: inspected targets over targets in scope, for the window",
)
def coverage_groups(query: CoverageQuery) -> Any:
    window, flt = query.resolve()
    with runtime().session() as session:
        groups = counts.coverage(session, query.by, window, flt)
    return {"by": query.by, "start": window.start.isoformat(), "end": window.end.isoformat(), "groups": groups}


@router.route(
    "GET",
    "/coverage/summary",
    permission="view",
    query=CoverageQuery,
    summary="KPI cards: coverage, results, response times, participation, random plans, blind spots",
)
def coverage_summary(query: CoverageQuery) -> Any:
    window, flt = query.resolve()
    with runtime().session() as session:
        return summary.summary(session, window, flt, query.blind_days)


@router.route(
    "GET",
    "/coverage/trend",
    permission="view",
    query=CoverageQuery,
    summary="Coverage per day, week or month of the window",
)
def coverage_trend(query: CoverageQuery) -> Any:
    window, flt = query.resolve()
    with runtime().session() as session:
        return {"step": query.step, "points": trends.trend(session, window, flt, query.step)}


@router.route(
    "GET",
    "/coverage/response",
    permission="view",
    query=CoverageQuery,
    summary="Inspections by minutes from creation to arrival on site",
)
def coverage_response(query: CoverageQuery) -> Any:
    window, flt = query.resolve()
    with runtime().session() as session:
        return {"bins": summary.response_histogram(session, window, flt)}


@router.route(
    "GET",
    "/coverage.<any(csv, xlsx):fmt>",
    permission="view",
    query=CoverageQuery,
    produces="|".join(coverage_view.MIMETYPES.values()),
    summary="The coverage table as a CSV or XLSX file (audited)",
)
def coverage_export(fmt: str, query: CoverageQuery) -> Response:
    window, flt = query.resolve()
    with runtime().session() as session:
        groups = counts.coverage(session, query.by, window, flt)
        body, mimetype, name = coverage_view.audited_export(
            session, scope(), client_address(), query.by, window, flt, groups, fmt
        )
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})
