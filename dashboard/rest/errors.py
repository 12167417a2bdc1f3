"""One error handler for the API and Dash's callbacks: every `geo.infra.errors` error answered as
its JSON (or its words on a page), database errors mapped, refusals audited."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from dashboard.context import lang, log, record_refusal
from dashboard.rest.types import IdConverter
from geo.cases.rules import RULES as CASE_RULES
from geo.infra.errors import LawGridError, Unavailable, from_database

DATABASE_DOWN = Unavailable(
    "the database cannot be reached; nothing was changed, try again shortly",
    zh="数据库暂时无法连接，本次操作未生效，请稍后重试",
    rule="database",
)
DOWN_PAGE = """<!doctype html><html lang="zh"><meta charset="utf-8"><title>LawGrid · 503</title>
<body style="font-family: sans-serif; margin: 3em"><h1>数据库暂时无法连接</h1><p>本次操作未生效，请稍后刷新重试。</p>
<p lang="en">The database cannot be reached: nothing was changed. Please reload in a moment.</p></body></html>"""


# -- errors: one handler for the API and Dash's callbacks --------------------------------
def install_errors(server: Flask) -> None:
    server.url_map.converters["id"] = IdConverter

    @server.errorhandler(LawGridError)
    def domain_error(exc: LawGridError) -> Any:
        record_refusal(exc)
        return jsonify(exc.payload(lang())), exc.status

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith(("/api/", "/_dash-")):
            return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), detail=exc.description), exc.code
        return exc

    @server.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError) -> Any:
        # A reference to a row that is not there, or a duplicate the core did not foresee.
        log.warning("the database refused a write on %s: %s", request.path, exc.orig)
        # the database's own words stay in the log: they name tables and values (never echoed)
        return jsonify(error="conflict", detail="the request conflicts with stored data"), 409

    @server.errorhandler(DBAPIError)
    def database_refusal(exc: DBAPIError) -> Any:
        # A rule the database holds (a trigger or gate function of 0015), refused on commit or
        # on a path the core did not check first: answered like the core's own refusals.
        refused = from_database(exc, CASE_RULES)
        if refused is None:
            raise exc
        return domain_error(refused)

    @server.errorhandler(OperationalError)
    @server.errorhandler(InterfaceError)
    def database_down(exc: DBAPIError) -> Any:
        # The database is down or restarting: a 503 that says so (JSON for the API and the
        # pages' callbacks, a page for a browser), never a bare 500; the details stay in the log.
        log.warning("the database cannot be reached on %s: %s", request.path, exc.orig)
        headers = {"Retry-After": "5"}
        if request.path.startswith(("/api/", "/_dash-")):
            return jsonify(DATABASE_DOWN.payload(lang())), 503, headers
        return DOWN_PAGE, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}

    @server.errorhandler(DataError)
    def database_data_error(exc: DataError) -> Any:
        log.warning("the database refused a value on %s: %s", request.path, exc.orig)
        return jsonify(error="bad_request", detail="a value is out of range or malformed"), 400
