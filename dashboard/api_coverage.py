"""REST routes of coverage: figures per group for a window, the KPI summary, and exports
(CSV, XLSX) that are audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response, abort, jsonify, request

from dashboard.api import OPENAPI, _parse_number, _runtime, api
from dashboard.auth import client_address, current_scope, requires
from geo import audit, coverage
from geo.accounts import ROLES

BEIJING = dt.timezone(dt.timedelta(hours=8))
COLUMNS = ("key", "name", "numerator", "denominator", "ratio")


def query_from_args(args) -> tuple[str, coverage.Window, coverage.Filter]:
    """?by=&start=&end= (ISO dates) or &period=day|week|month|quarter|year, &township=&domain="""
    scope = current_scope()
    try:
        window = coverage.parse_window(args.get("start"), args.get("end"), args.get("period"),
                                       dt.datetime.now(BEIJING).date())
    except coverage.CoverageError as exc:
        abort(400, description=str(exc))
    flt = coverage.Filter(township=args.get("township") or None, domain=args.get("domain") or None,
                          unit_ids=scope.unit_ids)
    return args.get("by", "unit"), window, flt


def groups_for(args) -> tuple[coverage.Window, list[dict]]:
    by, window, flt = query_from_args(args)
    try:
        with _runtime().session() as session:
            return window, coverage.coverage(session, by, window, flt)
    except coverage.CoverageError as exc:
        abort(400, description=str(exc))


@api.get("/coverage")
@requires(*ROLES)
def coverage_groups():
    window, groups = groups_for(request.args)
    return jsonify(by=request.args.get("by", "unit"), start=window.start.isoformat(), end=window.end.isoformat(),
                   groups=groups)


@api.get("/coverage/summary")
@requires(*ROLES)
def coverage_summary():
    _by, window, flt = query_from_args(request.args)
    days = _parse_number(request.args.get("blind_days", "90"), "blind_days", 1, 3650)
    try:
        with _runtime().session() as session:
            return jsonify(coverage.summary(session, window, flt, days))
    except coverage.CoverageError as exc:
        abort(400, description=str(exc))


@api.get("/coverage.<any(csv, xlsx):fmt>")
@requires(*ROLES)
def coverage_export(fmt: str):
    window, groups = groups_for(request.args)
    by = request.args.get("by", "unit")
    body, mimetype = export(groups, fmt)
    with _runtime().session() as session:
        audit.record(session, current_scope().username, "coverage_export", subject=f"coverage:{by}",
                     detail={"format": fmt, "start": window.start.isoformat(), "end": window.end.isoformat(),
                             "township": request.args.get("township"), "domain": request.args.get("domain"),
                             "rows": len(groups)}, source=client_address())
    name = f"coverage-{by}-{window.start}-{window.end}.{fmt}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


HEADINGS = ("编码 key", "名称 name", "已检查对象 inspected", "应检查对象 in scope", "覆盖率 coverage")


def export(groups: list[dict], fmt: str) -> tuple[bytes, str]:
    rows = [[g[c] for c in COLUMNS] for g in groups]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode(), "text/csv"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "coverage"
    sheet.append(HEADINGS)
    for row in rows:
        sheet.append(row)
    for cell in sheet["E"][1:]:
        cell.number_format = "0.0%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


OPENAPI["paths"].update({
    "/api/coverage": {"get": {"summary": "Coverage per group: ?by=unit|body|township|domain|officer|risk|district"
                                         "&start=&end= (ISO dates) or &period=, &township=&domain="}},
    "/api/coverage/summary": {"get": {"summary": "KPI cards for the window: coverage, results, response times,"
                                                 " participation, random plans, blind spots (?blind_days=)"}},
    "/api/coverage.{csv|xlsx}": {"get": {"summary": "The same table as a file (audited)"}},
})
