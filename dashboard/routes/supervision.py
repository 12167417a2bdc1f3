"""REST routes of supervision (监督考核): the indicators, their figures by scope and period, the
records behind a figure, and its export (audited)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response
from pydantic import Field

from dashboard.context import scope, services
from dashboard.rest.router import Router
from dashboard.rest.types import Code, Query
from services import supervision

router = Router()

PERIOD: dict[str, Any] = {"examples": ["2024", "2024-Q2", "2024-05", "2024-01-01..2024-03-31"]}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Dimension = Literal["district", "unit", "body", "township", "officer"]


class FiguresQuery(Query):
    """A period (a year, a quarter, a month or a range of days) and what to group by."""

    period: str = Field(min_length=4, max_length=22, json_schema_extra=PERIOD)
    by: Dimension = "district"
    indicator: list[Code] | None = Field(None, description="only these indicators (all when absent)")


class RecordsQuery(Query):
    """The records behind one figure: above the line (num), below it (den) or both (all)."""

    period: str = Field(min_length=4, max_length=22, json_schema_extra=PERIOD)
    side: Literal["num", "den", "all"] = "num"
    by: Dimension | None = None
    value: str | None = Field(None, max_length=64, description="the group's key (a unit id, a township code)")
    limit: int = Field(200, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.route("GET", "/supervision/indicators", permission="supervision.view", summary="Every indicator, in words")
def supervision_indicators() -> Any:
    return {"indicators": supervision.catalogue(scope())}


@router.route(
    "GET",
    "/supervision/figures",
    permission="supervision.view",
    query=FiguresQuery,
    summary="Each indicator's figure for the period in your scope, with the previous period and the median of units",
)
def supervision_figures(query: FiguresQuery) -> Any:
    return supervision.figures(services(), scope(), period=query.period, by=query.by, keys=query.indicator)


@router.route(
    "GET",
    "/supervision/indicators/<key>/records",
    permission="supervision.view",
    query=RecordsQuery,
    summary="The records behind a figure (as many as it counts)",
)
def supervision_records(key: str, query: RecordsQuery) -> Any:
    return supervision.records(services(), scope(), key, **query.model_dump())


@router.route(
    "GET",
    "/supervision/indicators/<key>/records.<any(csv, xlsx):fmt>",
    permission="supervision.view",
    query=RecordsQuery,
    produces="|".join(MIMETYPES.values()),
    summary="Every record behind a figure as a CSV or XLSX file (audited)",
)
def supervision_records_export(key: str, fmt: str, query: RecordsQuery) -> Response:
    args = query.model_dump(exclude={"limit", "offset"})
    body, name = supervision.export(services(), scope(), key, fmt, **args)
    return Response(body, mimetype=MIMETYPES[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})
