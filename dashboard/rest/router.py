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
            return dispatch.add_note(session, task_id, body.text), 201"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel

from geo.infra.errors import InvalidInput, NotFound
from geo.infra.requests import parse


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
    view: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def openapi_path(self) -> str:
        return "/api" + re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", self.rule)


class Router:
    """The routes one module declares. Nothing is installed on import: the app factory installs
    the router of every module dashboard/registry.py lists, and the OpenAPI document is made
    from the same list."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(
        self,
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
            params = {name: kind or "string" for kind, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule)}
            self.operations.append(
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
                    view,
                )
            )
            return view

        return decorate

    def install(self, blueprint: Blueprint) -> None:
        for op in self.operations:
            assert op.view is not None
            blueprint.add_url_rule(op.rule, op.endpoint, op.view, methods=[op.method])


def blueprint(routers: Iterable[Router]) -> Blueprint:
    """The /api blueprint with every given router's routes, and an answer for any other path."""
    api = Blueprint("api", __name__, url_prefix="/api")
    for router in routers:
        router.install(api)
    api.add_url_rule(
        "/<path:_unknown>", "unknown_route", unknown_route, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    return api


def unknown_route(_unknown: str) -> Any:
    """Keep Dash's catch-all page route from answering unknown API paths with HTML."""
    raise NotFound(f"no API route {request.method} {request.path}")


unknown_route.lawgrid_permission = "view"  # type: ignore[attr-defined]


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
