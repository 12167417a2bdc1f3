"""The OpenAPI 3.1 document, generated from the routes' declarations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dashboard.rest.router import Operation, _is_list
from dashboard.rest.types import MAX_ID, Error
from geo.access import policy


# -- the OpenAPI document -------------------------------------------------------------------
def openapi_document(operations: Iterable[Operation]) -> dict[str, Any]:
    operations = list(operations)
    models: set[type[BaseModel]] = {Error}
    for op in operations:
        models.update(m for m in (op.body, op.response) if m is not None)
    keyed: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (m, "validation") for m in sorted(models, key=lambda m: m.__name__)
    ]
    _, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
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
