"""REST routes of supervision (监督考核): the indicators, their figures by scope and period, the
records behind a figure, and its export (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Response
from pydantic import Field

from dashboard.context import runtime, scope, services
from dashboard.rest.router import Router
from dashboard.rest.types import Code, Id, Model, Query
from geo.infra.errors import InvalidInput
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


# Supervision cases (监督案件) ---------------------------------------------------------------------
class OpenCase(Model):
    """Open a supervision case on a unit from a lead (the supervising organ)."""

    unit_id: Id
    subject: str = Field(min_length=1, max_length=500)
    lead_kind: Literal["finding", "file_review", "complaint", "hotline", "special_plan"]
    lead_ref: str | None = Field(None, max_length=200, examples=["indicator:quota_pattern"])
    case_id: Id | None = Field(None, description="the enforcement case concerned, if any")


class Step(Model):
    """约谈, 调阅材料, 督办函, 意见书, escalation (提请决定书), 通报 or closing."""

    kind: Literal[
        "interview", "materials_requested", "supervision_letter", "opinion", "escalation", "circular", "closing"
    ]
    note: str = Field(min_length=1, max_length=4000)
    due_on: dt.date | None = Field(None, description="the unit's report is due (instruments and requests)")


class Reply(Model):
    """The supervised unit's answer: it accepts and reports its correction, or objects."""

    accepted: bool
    note: str = Field(min_length=1, max_length=4000)


class Measure(Model):
    """批评教育, 离岗教育, 调离执法岗位 or 取消执法资格 (the last ends the certificate from its date)."""

    kind: Literal["criticism", "suspension_education", "reassignment", "disqualification"]
    effective_on: dt.date
    note: str = Field(min_length=1, max_length=2000)
    supervision_case_id: Id | None = None


class CaseListQuery(Query):
    status: Literal["open", "instrument_issued", "answered", "escalated", "closed"] | None = None


@router.route(
    "POST",
    "/supervision/cases",
    permission="supervision.manage",
    body=OpenCase,
    status=201,
    summary="Open a supervision case (refused for a matter in 复议 or 诉讼, 条例 第三十三条)",
)
def supervision_open(body: OpenCase) -> Any:
    return supervision.open_case(services(), scope(), **body.model_dump())


@router.route(
    "GET",
    "/supervision/cases",
    permission="supervision.view",
    query=CaseListQuery,
    summary="Supervision cases in your scope, open first, with their clocks",
)
def supervision_cases(query: CaseListQuery) -> Any:
    return {"cases": supervision.case_list(services(), scope(), query.status)}


@router.route("GET", "/supervision/cases/<id:case_id>", permission="supervision.view", summary="One supervision case")
def supervision_case(case_id: int) -> Any:
    return supervision.case(services(), scope(), case_id)


@router.route(
    "POST",
    "/supervision/cases/<id:case_id>/steps",
    permission="supervision.manage",
    body=Step,
    status=201,
    summary="The organ's step: an instrument is numbered with its due day; escalation needs an overdue or "
    "refused reply",
)
def supervision_step(case_id: int, body: Step) -> Any:
    return supervision.take_step(services(), scope(), case_id, **body.model_dump())


@router.route(
    "POST",
    "/supervision/cases/<id:case_id>/reply",
    permission="supervision.reply",
    body=Reply,
    status=201,
    summary="The supervised unit answers the open instrument or request",
)
def supervision_reply(case_id: int, body: Reply) -> Any:
    return supervision.reply(services(), scope(), case_id, **body.model_dump())


@router.route(
    "POST",
    "/officers/<id:officer_id>/measures",
    permission="supervision.manage",
    body=Measure,
    status=201,
    summary="A measure on an officer; 取消执法资格 removes him from every lawful crew from its date",
)
def officer_measure(officer_id: int, body: Measure) -> Any:
    return supervision.record_measure(services(), scope(), officer_id, **body.model_dump())


# Scorecards (考核) ---------------------------------------------------------------------------------
class SchemeBody(Model):
    """The year's assessment scheme: each rule an indicator, its points and how they are earned."""

    name: str = Field(min_length=1, max_length=200)
    rules: list[dict[str, Any]] = Field(min_length=1, max_length=50)


class ScoresQuery(Query):
    by: Literal["unit", "township"] = "unit"


class ReportQuery(Query):
    unit: Id | None = Field(None, description="one unit's report (PDF) instead of the district's")


@router.route(
    "PUT",
    "/supervision/schemes/<int:year>",
    permission="supervision.manage",
    body=SchemeBody,
    status=201,
    summary="Set the year's assessment scheme (a new version; the earlier ones stay)",
)
def supervision_scheme_save(year: int, body: SchemeBody) -> Any:
    return supervision.save_scheme(services(), scope(), _year(year), body.name, body.rules)


@router.route("GET", "/supervision/schemes/<int:year>", permission="supervision.view", summary="The year's scheme")
def supervision_scheme(year: int) -> Any:
    return supervision.scheme(services(), scope(), _year(year))


@router.route(
    "GET",
    "/supervision/scores/<int:year>",
    permission="supervision.view",
    query=ScoresQuery,
    summary="Each unit's or township's score under the year's scheme, ranked, every point traceable",
)
def supervision_scores(year: int, query: ScoresQuery) -> Any:
    return supervision.scores(services(), scope(), _year(year), query.by)


@router.route(
    "GET",
    "/supervision/reports/<int:year>.<any(pdf, xlsx):fmt>",
    permission="supervision.view",
    query=ReportQuery,
    produces="application/pdf|" + MIMETYPES["xlsx"],
    summary="The annual assessment report: PDF (district or one unit) or the figures as XLSX (audited)",
)
def supervision_report(year: int, fmt: str, query: ReportQuery) -> Response:
    body, name = supervision.report(services(), scope(), runtime().documents.fonts, _year(year), fmt, query.unit)
    mimetype = "application/pdf" if fmt == "pdf" else MIMETYPES["xlsx"]
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise InvalidInput("the year must be between 2000 and 2100", rule="year")
    return year


@router.route(
    "GET",
    "/supervision/statistics/<int:year>",
    permission="supervision.view",
    summary="The year's enforcement statistics (年度行政执法数据) in your scope, equal to the indicators",
)
def supervision_statistics(year: int) -> Any:
    return supervision.annual_statistics(services(), scope(), _year(year))


@router.route(
    "GET",
    "/supervision/statistics/<int:year>.<any(pdf, xlsx):fmt>",
    permission="supervision.view",
    produces="application/pdf|" + MIMETYPES["xlsx"],
    summary="The year's enforcement statistics as a PDF in Chinese or an XLSX (audited)",
)
def supervision_statistics_file(year: int, fmt: str) -> Response:
    body, name = supervision.annual_statistics(services(), scope(), _year(year), fmt, runtime().documents.fonts)
    mimetype = "application/pdf" if fmt == "pdf" else MIMETYPES["xlsx"]
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


# 案卷评查 -----------------------------------------------------------------------------------------
class FileDraw(Model):
    """Draw a unit's decided case files at random, reproducibly from the published seed."""

    unit_id: Id
    period: str = Field(min_length=4, max_length=22, json_schema_extra=PERIOD)
    n: int = Field(ge=1, le=200)
    seed: str = Field(min_length=1, max_length=100)


class FileReview(Model):
    """One case file scored against the checklist: every item true or false."""

    checks: dict[str, bool]
    note: str | None = Field(None, max_length=2000)
    seed: str | None = Field(None, max_length=100)


@router.route(
    "POST",
    "/supervision/file-reviews/draw",
    permission="supervision.manage",
    body=FileDraw,
    summary="Draw a unit's decided case files for 案卷评查 (the same files for the same seed)",
)
def supervision_file_draw(body: FileDraw) -> Any:
    return supervision.draw_files(services(), scope(), body.unit_id, period=body.period, n=body.n, seed=body.seed)


@router.route(
    "POST",
    "/cases/<id:case_id>/file-review",
    permission="supervision.manage",
    body=FileReview,
    status=201,
    summary="Score a case file against the 案卷评查 checklist (below the pass mark it is a lead)",
)
def supervision_file_review(case_id: int, body: FileReview) -> Any:
    return supervision.review_file(services(), scope(), case_id, body.checks, note=body.note, seed=body.seed)
