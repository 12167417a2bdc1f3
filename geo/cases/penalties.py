"""Judging a penalty against its codified item (the discretion check) and the limitation period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from geo.cases import discretion
from geo.cases.actions import Ctx
from geo.cases.items import store
from geo.cases.rules import (
    RULES,
)
from geo.cases.store import _update
from geo.infra.errors import NotFound, Refused


def _past(day: dt.date | None, today: dt.date) -> dt.date:
    day = day or today
    if day > today:
        raise Refused([{"rule": "date_in_future"}], RULES)
    return day


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def judge(
    session: Session,
    item_code: str,
    item_version: int | None,
    penalty: dict[str, Any],
    party_kind: str,
    reason: str | None,
    *,
    require_reason: bool = True,
) -> dict[str, Any]:
    """The discretion check of a proposal (geo/discretion.py): an unlawful one is refused with
    its rules; one that needs a written reason is refused without it (`require_reason`). The
    penalty gets the judged level (`discretion_level`), which the database's statutory gate
    reads to let a 减轻 fine go below the minimum."""
    try:
        item = store.get(session, item_code, item_version)
    except NotFound:
        raise Refused([{"rule": "item_codified", "item": item_code}], RULES) from None
    verdict = discretion.check(item, penalty, party_kind)
    if verdict.verdict == "unlawful":
        raise Refused(verdict.unlawful_rules, RULES)
    if verdict.verdict == "needs_reason" and require_reason and not (reason and reason.strip()):
        needing = [{"rule": r["rule"]} for r in verdict.reasons]
        raise Refused([{"rule": "discretion_reason"}, *needing], RULES)
    penalty["discretion_level"] = verdict.level
    return verdict.as_json()


def _judge_case(ctx: Ctx, penalty: dict[str, Any], reason: str | None) -> dict[str, Any]:
    c = ctx.case
    return judge(ctx.session, c["item_code"], c["item_version"], penalty, c["party_kind"], reason)


def _legal_review_if_item_needs(ctx: Ctx, verdict: dict[str, Any]) -> None:
    """The item's own 法制审核 trigger (a penalty kind or an amount on its list): once a proposal
    reaches it, the case's next review is a legal one (it is never turned back off)."""
    if verdict["legal_review"] and not ctx.case["legal_review_required"]:
        _update(ctx.session, ctx.id, legal_review_required=True, legal_review_reason="事项法制审核范围")
        ctx.case["legal_review_required"] = True
