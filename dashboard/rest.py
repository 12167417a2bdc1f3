"""The REST layer: one decorator declares a route (method, path, permission, typed query and
body, response model); the OpenAPI document is generated from those declarations; one error
handler turns every `geo.errors` error into its JSON answer and audits refusals.

A new route is a dozen lines:

    class NoteBody(BaseModel):
        text: Text

    @route("POST", "/inspections/<id:task_id>/notes", permission="task.status", body=NoteBody,
           response=TaskView, status=201, summary="Add a note to a task")
    def add_note(task_id: int, body: NoteBody):
        with runtime().session() as session:
            policy.task_in_scope(session, scope(), task_id)
            return dispatch.add_note(session, task_id, body.text), 201
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import models_json_schema
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases.rules import RULES as CASE_RULES
from geo.infra.errors import InvalidInput, LawGridError, Unauthorized, from_database
from geo.infra.requests import parse
from geo.infra.timezone import BEIJING

log = logging.getLogger(__name__)
api = Blueprint("api", __name__, url_prefix="/api")

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive database id; anything longer than a bigint is no id (404)."""

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=MAX_ID)


# -- types the request models share ------------------------------------------------------
def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, Field(max_length=2000), AfterValidator(_clean_text)]
"""Free text from a person: at most 2,000 characters, no NUL (PostgreSQL refuses it)."""
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
"""An identifier from a list (a domain key, an item code, a township code)."""
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _iso_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 time, e.g. 2026-11-24T08:00:00+08:00") from None
        if (
            not dt.datetime(1900, 1, 2, tzinfo=dt.UTC)
            <= parsed.replace(tzinfo=parsed.tzinfo or BEIJING)
            <= dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
        ):
            raise ValueError("must be a time between the years 1900 and 9998")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)
    raise ValueError("must be an ISO 8601 time, e.g. 2026-11-24T08:00:00+08:00")


IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_time)]
"""An ISO 8601 time; without an offset it is Beijing time."""


class Model(BaseModel):
    """Base of request models: unknown fields are refused, so a typo is a 400, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Query(BaseModel):
    """Base of query-string models: unknown parameters are ignored (browsers add their own)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Listing(BaseModel):
    """An object of lists, e.g. {"devices": [...]}: the key names what is listed."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {"type": "array"}})


class Feature(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None = None


class FeatureCollection(BaseModel):
    """GeoJSON (RFC 7946), EPSG:4326."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[Feature]


class Error(BaseModel):
    """Every 4xx answer."""

    error: str = Field(
        description="stable code: bad_request, unauthorized, forbidden, not_found, conflict, refused, throttled"
    )
    detail: str = Field(description="what went wrong, in words a user can act on")
    rule: str | None = Field(None, description="the rule or permission that refused the request")
    violations: list[dict[str, Any]] | None = Field(None, description="each broken rule, with its reason")
    errors: list[dict[str, Any]] | None = Field(None, description="each invalid field")


# -- the route declaration ----------------------------------------------------------------
@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    permission: str | None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    produces: str = "application/json"
    path_params: dict[str, str] = field(default_factory=dict)
    throttled: bool = False

    @property
    def openapi_path(self) -> str:
        return "/api" + re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []


def route(
    method: str,
    rule: str,
    *,
    summary: str,
    permission: str | None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    produces: str = "application/json",  # a file route may name several: "text/csv|application/..."
    throttled: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API route. The view receives its path parameters, then `query=` and `body=`
    as validated models; it returns a model, a dict, a Flask Response, or one of those with a
    status. permission=None means public (no login)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**path: Any) -> Any:
            kwargs = dict(path)
            if query is not None:
                kwargs["query"] = parse(query, query_dict(query))
            if body is not None:
                kwargs["body"] = parse(body, json_body())
            return respond(fn(**kwargs), status)

        view.lawgrid_permission = permission  # type: ignore[attr-defined]  # the guard reads it
        view.lawgrid_public = permission is None  # type: ignore[attr-defined]
        api.add_url_rule(rule, fn.__name__, view, methods=[method])
        params = {name: kind or "string" for kind, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule)}
        OPERATIONS.append(
            Operation(
                method,
                rule,
                fn.__name__,
                summary,
                permission,
                query,
                body,
                response,
                status,
                produces,
                params,
                throttled,
            )
        )
        return view

    return decorate


def scope() -> Scope:
    """The caller (the guard has authenticated him before any view runs)."""
    who = g.get("scope")
    if who is None:
        raise Unauthorized("log in first (session) or send a bearer token")
    return who


def runtime() -> Any:
    return current_app.extensions["lawgrid"]


def lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


# -- parsing and answering ----------------------------------------------------------------
def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_list(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation) if a is not type(None))
    return origin in (list, set, frozenset, tuple)


def query_dict(model: type[BaseModel]) -> dict[str, Any]:
    """The query string as the model's fields: a list field takes repeated and comma-separated
    values (?risk=1&risk=2 or ?risk=1,2); an empty value counts as absent."""
    args = request.args
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in args:
            continue
        if _is_list(info.annotation):
            data[key] = [v for raw in args.getlist(key) for v in raw.split(",") if v.strip()]
        elif args.get(key, "") != "":
            data[key] = args.get(key)
    return data


def json_body() -> Any:
    if not request.data:
        return {}
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput("send a JSON object (Content-Type: application/json)")
    if not isinstance(body, dict):
        raise InvalidInput(f"send a JSON object, not a JSON {type(body).__name__}")
    return body


def respond(result: Any, default_status: int) -> Any:
    status = default_status
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):
        return jsonify(result.model_dump(mode="json")), status
    return jsonify(result), status


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
        return jsonify(error="conflict", detail=f"the request conflicts with stored data: {exc.orig}"[:300]), 409

    @server.errorhandler(DBAPIError)
    def database_refusal(exc: DBAPIError) -> Any:
        # A rule the database holds (a trigger or gate function of 0015), refused on commit or
        # on a path the core did not check first: answered like the core's own refusals.
        refused = from_database(exc, CASE_RULES)
        if refused is None:
            raise exc
        return domain_error(refused)

    @server.errorhandler(DataError)
    def database_data_error(exc: DataError) -> Any:
        log.warning("the database refused a value on %s: %s", request.path, exc.orig)
        return jsonify(error="bad_request", detail=f"a value is out of range or malformed: {exc.orig}"[:300]), 400


def record_refusal(exc: LawGridError) -> None:
    """Audit a refusal (role, scope, rule, conflict) with the actor and the source address."""
    who = g.get("scope")
    actor = who.username if who else "(anonymous)"
    try:
        policy.record_refusal(
            runtime().sessions,
            str(actor)[:200],
            exc,
            subject=f"{request.method} {request.path}",
            source=client_address(),
        )
    except Exception:  # the answer still goes out; the failure is logged
        log.exception("could not audit a refusal of %s", request.path)


def attempt(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, LawGridError | None]:
    """For Dash callbacks: run an action; a refusal is audited like the API's and returned
    as (None, error) for the page to show (see `explain`)."""
    try:
        return action(*args, **kwargs), None
    except LawGridError as exc:
        record_refusal(exc)
        return None, exc


def client_address() -> str:
    return request.remote_addr or "unknown"


# -- the OpenAPI document -------------------------------------------------------------------
def openapi_document() -> dict[str, Any]:
    models: set[type[BaseModel]] = {Error}
    for op in OPERATIONS:
        models.update(m for m in (op.body, op.response) if m is not None)
    keyed: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (m, "validation") for m in sorted(models, key=lambda m: m.__name__)
    ]
    _, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LawGrid API",
            "version": "0.2.0",
            "description": "Command, dispatch and coverage of Binhai's administrative law enforcement. "
            "Errors are {error, detail}; bad input is a 4xx, never a 500.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "lawgrid_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            if kind in ("id", "int")
            else {"type": "string", "enum": _any_choices(op.rule, name)}
            if kind == "any"
            else {"type": "string"},
        }
        for name, kind in op.path_params.items()
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            entry = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if _is_list(op.query.model_fields[name].annotation):
                entry.update(style="form", explode=False)
            if "description" in prop:
                entry["description"] = prop["description"]
            params.append(entry)
    ok: dict[str, Any] = {"description": "success"}
    if op.response is not None:
        ok["content"] = {op.produces: {"schema": _ref(op.response)}}
    elif op.produces != "application/json":
        ok["content"] = {kind: {"schema": {"type": "string"}} for kind in op.produces.split("|")}
    else:
        ok["content"] = {"application/json": {"schema": {"type": "object"}}}
    error = {"content": {"application/json": {"schema": _ref(Error)}}}
    responses: dict[str, Any] = {str(op.status): ok, "400": {"description": "invalid input", **error}}
    if op.permission is not None:
        responses["401"] = {"description": "not logged in", **error}
        responses["403"] = {"description": "your role or unit may not do this", **error}
    if op.throttled:
        responses["401"] = {"description": "wrong credentials", **error}
        responses["429"] = {"description": "too many failed attempts; try again later", **error}
    if op.permission is not None:  # every object a route names may be absent or outside the scope
        responses["404"] = {"description": "no such object in your scope", **error}
    if op.method != "GET":
        responses["409"] = {"description": "the object's state does not allow it, or someone was first", **error}
        responses["422"] = {"description": "refused by a rule, each named", **error}
    out: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "parameters": params,
        "responses": responses,
    }
    if op.permission is None:
        out["security"] = []
    else:
        out["x-permission"] = op.permission
        out["x-roles"] = sorted(policy.PERMISSIONS[op.permission])
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.body)}}}
    return out


def _any_choices(rule: str, name: str) -> list[str]:
    match = re.search(r"<any\(([^)]*)\):" + name + ">", rule)
    return [c.strip() for c in match.group(1).split(",")] if match else []


__all__ = ["Code", "Id", "IsoTime", "Literal", "Model", "Query", "Text", "api", "route", "scope"]
