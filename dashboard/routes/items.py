"""REST routes of codified enforcement items (执法事项): look an item up by code or name, its
versions, the check points of an inspection, and the discretion check of a proposal before it
is made (the same check `geo.cases` applies when the proposal is submitted)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dashboard.context import runtime, scope
from dashboard.rest.router import Router
from dashboard.rest.types import Code, Id, Listing, Model, Query
from geo.cases import discretion, forms
from geo.cases.items import store

router = Router()


class ItemQuery(Query):
    domain: Code | None = None
    q: str | None = Field(None, max_length=100, description="part of a code or a name")
    unit: Id | None = Field(None, description="only the items this unit holds")


class CheckPointQuery(Query):
    items: list[Code] = Field(min_length=1, max_length=50, description="item codes, repeated or comma-separated")


class CheckBody(Model):
    item_code: Code
    version: int | None = Field(None, ge=1, description="defaults to the current version")
    party_kind: Literal["natural", "legal", "other"]
    penalty: forms.Penalty


@router.route("GET", "/items", permission="case.view", query=ItemQuery, response=Listing, summary="Current items")
def list_items(query: ItemQuery) -> Any:
    who = scope()
    units = [query.unit] if query.unit else (None if who.district_wide else sorted(who.unit_ids or ()))
    with runtime().session() as session:
        return {"items": store.listing(session, unit_ids=units, domain=query.domain, q=query.q)}


@router.route(
    "GET", "/items/<code>", permission="case.view", summary="An item's current version and its version history"
)
def get_item(code: str) -> Any:
    with runtime().session() as session:
        item = store.get(session, code)
        return {**item.model_dump(mode="json"), "versions": store.versions(session, code)}


@router.route(
    "GET",
    "/items/check-points",
    permission="case.view",
    query=CheckPointQuery,
    response=Listing,
    summary="The checklist (检查事项清单) of an inspection of these items",
)
def item_check_points(query: CheckPointQuery) -> Any:
    with runtime().session() as session:
        return {"check_points": store.check_points(session, query.items)}


@router.route(
    "POST",
    "/items/check",
    permission="case.view",
    body=CheckBody,
    summary="The discretion check of a penalty proposal: level, band, verdict ok / needs_reason / unlawful",
)
def check_proposal(body: CheckBody) -> Any:
    with runtime().session() as session:
        item = store.get(session, body.item_code, body.version)
        return discretion.check(item, body.penalty.as_json(), body.party_kind).as_json()
