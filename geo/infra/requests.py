"""Typed requests: validating a pydantic model and naming each invalid field in words a
user can act on. The REST layer, the pages, the CLI and the core's own entry points
(geo.cases) all parse through here, so a bad field reads the same on every path."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, ValidationError

from geo.infra.errors import InvalidInput


def decode_file(data: str, field: str, max_bytes: int) -> bytes:
    """A file sent inside JSON: base64, or a data: URL as a browser's canvas or FileReader
    gives it; at most max_bytes once decoded."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise InvalidInput(f"{field}: not base64") from None
    if len(raw) > max_bytes:
        size = f"{max_bytes // 2**20} MB" if max_bytes >= 2**20 else f"{max_bytes // 1024} KB"
        raise InvalidInput(f"{field}: at most {size}")
    return raw


def parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(model, e) for e in exc.errors(include_url=False, include_input=False)]
        raise InvalidInput("; ".join(p["message"] for p in problems), errors=problems) from None


def _problem(model: type[BaseModel], error: Any) -> dict[str, Any]:
    loc = [str(part) for part in error["loc"]]
    name = ".".join(loc) or "body"
    kind, ctx = error["type"], error.get("ctx") or {}
    info = model.model_fields.get(loc[0]) if loc else None
    bounds = [getattr(m, attr) for m in (info.metadata if info else []) for attr in ("ge", "le") if hasattr(m, attr)]
    if kind == "missing":
        text = f"{name} is required"
    elif kind == "extra_forbidden":
        text = f"{name} is not a field of this request"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        text = f"{name} must be an integer"
    elif kind in ("float_parsing", "float_type", "finite_number"):
        text = f"{name} must be a finite number"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") and len(bounds) == 2:
        text = f"{name} must be between {bounds[0]} and {bounds[1]}"
    elif kind == "literal_error":
        text = f"{name} must be one of {ctx.get('expected', '')}".replace("'", "")
    elif kind == "value_error":
        text = f"{name} {str(ctx.get('error', error['msg']))}"
    else:
        text = f"{name}: {error['msg']}"
    return {"field": name, "type": kind, "message": text}
