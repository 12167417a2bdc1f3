"""The types request and response models share: text, codes, ids, Beijing times, the base
models, listings, GeoJSON and the error answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import IntegerConverter

from geo.infra.timezone import BEIJING

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive database id; 0 or anything longer than a bigint is no id (404).

    Out of range is answered here with a 404, not by declining the match: a declined match
    made the router answer 405 or an HTML 404 for the other methods of the same path."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise RouteNotFound(f"no such id {value[:40]}")
        return number


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
