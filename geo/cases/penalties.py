"""Judging a penalty against its codified item (the discretion check) and the limitation period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
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


def law_applied(
    session: Session, case: dict[str, Any], today: dt.date, penalty: dict[str, Any] | None
) -> dict[str, Any]:
    """处罚法 第三十七条 (从旧兼从轻): the item version in force when the act occurred, unless the one
    in force at the decision is lighter for this penalty; both are named."""
    at_act = case.get("item_version_at_act") or case["item_version"]
    row = session.execute(
        text(
            "SELECT version FROM enforcement_item WHERE code = :c AND valid_from <= :d "
            "ORDER BY valid_from DESC, version DESC LIMIT 1"
        ),
        {"c": case["item_code"], "d": today},
    ).first()
    at_decision = int(row.version) if row else at_act
    applied = at_act
    if at_decision != at_act and at_act is not None:
        try:
            old = store.get(session, case["item_code"], at_act)
            new = store.get(session, case["item_code"], at_decision)
        except NotFound:
            return {"at_act": at_act, "at_decision": at_decision, "applied": applied}
        if lighter(new, old, (penalty or {}).get("tier")):
            applied = at_decision
    return {"at_act": at_act, "at_decision": at_decision, "applied": applied}


def lighter(new: Any, old: Any, tier: str | None = None) -> bool:
    """Is `new` lighter than `old` for the tier (all tiers both have, without one)? Lighter when no
    upper bound is higher and one is lower, or when the tier is no longer punishable at all."""
    old_tiers = {t.id: t for t in (old.statutory.tiers if old.statutory else [])}
    new_tiers = {t.id: t for t in (new.statutory.tiers if new.statutory else [])}
    ids = [tier] if tier else [i for i in old_tiers if i in new_tiers] or list(old_tiers)
    if tier and tier in old_tiers and tier not in new_tiers:
        return True
    lower = False
    for i in ids:
        if i not in old_tiers or i not in new_tiers:
            continue
        a, b = old_tiers[i].fine, new_tiers[i].fine
        if a.type != b.type:
            continue
        top_old = a.max_yuan if a.type == "fixed" else a.max_times
        top_new = b.max_yuan if b.type == "fixed" else b.max_times
        if top_old is None or top_new is None:
            continue
        if top_new > top_old:
            return False
        lower = lower or top_new < top_old
    return lower


def fined_before(session: Session, case: dict[str, Any]) -> bool:
    """处罚法 第二十九条: this party was already fined for this act (same item, same day) in another case."""
    if not case.get("act_on"):
        return False
    found = session.execute(
        text(
            """SELECT 1 FROM enf_case o JOIN case_decision d ON d.case_id = o.id AND d.kind = 'penalty'
                 AND coalesce((d.penalty->>'fine_yuan')::numeric, 0) > 0
               WHERE o.id <> :c AND o.item_code = :i AND o.act_on = :a
                 AND coalesce(o.party_id_no, o.party_name) = coalesce(CAST(:pid AS text), :pn) LIMIT 1"""
        ),
        {
            "c": case["id"],
            "i": case["item_code"],
            "a": case["act_on"],
            "pid": case.get("party_id_no"),
            "pn": case["party_name"],
        },
    ).first()
    return found is not None
