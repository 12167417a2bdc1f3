"""REST routes of coverage: figures per group for a window, the KPI summary, the trend, the
response-time distribution, and exports (CSV, XLSX) that are audited."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from dashboard import coverage_view
from dashboard.api import OPENAPI, _parse_number, _runtime, api
from dashboard.auth import client_address, current_scope, requires
from geo import coverage
from geo.accounts import ROLES


def query_from_args(args) -> tuple[str, coverage.Window, coverage.Filter]:
    """?by=&start=&end= (ISO dates) or &period=day|week|month|quarter|year,
    &township=&domain=&risk=&unit="""
    try:
        return args.get("by", "unit"), coverage_view.window_from(args), coverage_view.filter_from(args, current_scope())
    except coverage.CoverageError as exc:
        abort(400, description=str(exc))
    except coverage_view.OutOfScope as exc:
        abort(404, description=str(exc))


def answer(compute):
    try:
        with _runtime().session() as session:
            return compute(session)
    except coverage.CoverageError as exc:
        abort(400, description=str(exc))


@api.get("/coverage")
@requires(*ROLES)
def coverage_groups():
    by, window, flt = query_from_args(request.args)
    groups = answer(lambda s: coverage.coverage(s, by, window, flt))
    return jsonify(by=by, start=window.start.isoformat(), end=window.end.isoformat(), groups=groups)


@api.get("/coverage/summary")
@requires(*ROLES)
def coverage_summary():
    _by, window, flt = query_from_args(request.args)
    days = _parse_number(request.args.get("blind_days", "90"), "blind_days", 1, 3650)
    return jsonify(answer(lambda s: coverage.summary(s, window, flt, days)))


@api.get("/coverage/trend")
@requires(*ROLES)
def coverage_trend():
    _by, window, flt = query_from_args(request.args)
    step = request.args.get("step", "month")
    return jsonify(step=step, points=answer(lambda s: coverage.trend(s, window, flt, step)))


@api.get("/coverage/response")
@requires(*ROLES)
def coverage_response():
    _by, window, flt = query_from_args(request.args)
    return jsonify(bins=answer(lambda s: coverage.response_histogram(s, window, flt)))


@api.get("/coverage.<any(csv, xlsx):fmt>")
@requires(*ROLES)
def coverage_export(fmt: str):
    by, window, flt = query_from_args(request.args)

    def compute(session):
        groups = coverage.coverage(session, by, window, flt)
        return coverage_view.audited_export(session, current_scope(), client_address(), by, window, flt, groups, fmt)

    body, mimetype, name = answer(compute)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


OPENAPI["paths"].update(
    {
        "/api/coverage": {
            "get": {
                "summary": "Coverage per group: ?by=unit|body|township|domain|officer|risk|district"
                "&start=&end= (ISO dates) or &period=, &township=&domain=&risk=&unit="
            }
        },
        "/api/coverage/summary": {
            "get": {
                "summary": "KPI cards for the window: coverage, results, response times,"
                " participation, random plans, blind spots (?blind_days=)"
            }
        },
        "/api/coverage/trend": {"get": {"summary": "Coverage per day, week or month of the window (?step=)"}},
        "/api/coverage/response": {"get": {"summary": "Inspections by minutes from creation to arrival on site"}},
        "/api/coverage.{csv|xlsx}": {"get": {"summary": "The same table as a file (audited)"}},
    }
)
