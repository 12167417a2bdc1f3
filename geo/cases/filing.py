"""Opening a case: filing (立案) from a case source by the organ head, with its crew, item and
limitation check; and the simple procedure's on-the-spot decision (当场处罚) with its limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from geo.access.accounts import Scope
from geo.cases import sources, timeline, workdays
from geo.cases.forms import NewCase, OnsiteCase
from geo.cases.machine import _finish, load
from geo.cases.penalties import _years_before, judge
from geo.cases.rules import (
    LIMITATION_GRAVE_YEARS,
    LIMITATION_YEARS,
    ONSITE_FILE_WD,
    RULES,
)
from geo.cases.store import (
    _add_officers,
    _event,
    _insert_case,
    _insert_decision,
    _number,
    _officer_unit,
    _party_of_target,
    _penalty_item,
    _update,
)
from geo.documents import numbers
from geo.infra import db
from geo.infra.errors import Conflict, InvalidInput, NotFound, Refused
from geo.infra.timezone import today as beijing_today


def file_case(session: Session, scope: Scope, body: NewCase, *, today: dt.date | None = None) -> dict[str, Any]:
    """立案 (T6): the organ head approves the 立案审批表; two certified officers, not recused."""
    today = today or beijing_today()
    source = sources.load(session, scope, body.source_id, lock=True)
    if source["status"] not in sources.OPEN:
        raise Conflict(f"case source {body.source_id} is {source['status']}; only an open source is filed")
    timeline.filing(source["received_on"], today)  # 立案 not before its source
    unit_id = int(source["unit_id"])
    # the act's day: the law in force then applies (处罚法 第三十七条); a continuing act counts from
    # the day it was found
    act_on = body.act_on or source["received_on"]
    if act_on > source["received_on"]:
        raise Refused([{"rule": "date_order", "before": "act", "floor": act_on.isoformat()}], RULES)
    broken = []
    item = _penalty_item(session, unit_id, body.item_code, act_on)
    if item is None:
        broken.append({"rule": "item_power_penalty", "item": body.item_code})
    years = LIMITATION_GRAVE_YEARS if body.grave_interest and body.harmful_consequences else LIMITATION_YEARS
    ended = body.act_ended_on or (None if body.act_continues else act_on)
    if ended and ended < _years_before(source["received_on"], years):
        broken.append({"rule": "limitation", "years": str(years)})
    party = body.party or _party_of_target(session, source["target_id"])
    if party is None:
        raise InvalidInput("party is required: the source names no registered target")
    if broken:
        raise Refused(broken, RULES)
    case_id = _insert_case(
        session,
        scope,
        "ordinary",
        "filed",
        unit_id,
        source["target_id"],
        party,
        item,
        body.facts,
        today,
        source_id=body.source_id,
        major=body.major,
        act_ended_on=body.act_ended_on,
        act={
            "on": act_on,
            "continues_reason": body.act_continues_reason if body.act_continues else None,
            "grave_interest": body.grave_interest,
            "harmful_consequences": body.harmful_consequences,
        },
        legal_review_reason=body.legal_review_reason,
    )
    _add_officers(session, case_id, body.officer_ids)
    sources.mark_filed(session, body.source_id, today, scope.username)
    _event(
        session,
        case_id,
        scope.username,
        "file",
        None,
        "filed",
        {"officers": body.officer_ids, "item": body.item_code, "source": body.source_id},
    )
    return _finish(session, scope, case_id, "file")


def open_onsite(session: Session, scope: Scope, body: OnsiteCase, *, today: dt.date | None = None) -> dict[str, Any]:
    """当场处罚 (处罚法 第五十一、五十二条): decided on the spot by two officers, one of them the
    caller; 备案 to the organ within 7 working days (`file_onsite`)."""
    today = today or beijing_today()
    if scope.officer_id not in body.officer_ids:
        raise Refused([{"rule": "handler_only"}], RULES)
    if not body.rights_told:
        raise Refused([{"rule": "rights_notice"}], RULES)
    have = db.retried(session, "enf_case", scope.username, body.client_key)
    if have is not None:
        return load(session, scope, have)
    unit_id = body.unit_id or _officer_unit(session, scope.officer_id)
    if not scope.district_wide and unit_id not in (scope.unit_ids or ()):
        raise NotFound(f"no unit {unit_id} in your scope", rule="unit_scope")
    item = _penalty_item(session, unit_id, body.item_code)
    if item is None:
        raise Refused([{"rule": "item_power_penalty", "item": body.item_code}], RULES)
    party = body.party or _party_of_target(session, body.target_id)
    if party is None:
        raise InvalidInput("party is required: give target_id or party")
    penalty = body.penalty.as_json()
    # 当场处罚 has no investigation report: only an unlawful amount blocks; the verdict goes with the 备案
    verdict = judge(session, item.item_code, item.item_version, penalty, party.kind, None, require_reason=False)
    # one number for the case and its decision (当场处罚决定书): the officer's block number, or the next
    number = (
        numbers.use_issued(session, scope, body.decision_no, "onsite")
        if body.decision_no
        else _number(session, unit_id, "onsite", today.year, scope.username)
    )
    case_id = _insert_case(
        session,
        scope,
        "simple",
        "onsite_decided",
        unit_id,
        body.target_id,
        party,
        item,
        body.facts,
        today,
        proposed=penalty,
        client_key=body.client_key,
        case_no=number,
    )
    _update(session, case_id, discretion=json.dumps(verdict, ensure_ascii=False))
    _add_officers(session, case_id, body.officer_ids)
    _insert_decision(
        session,
        scope,
        case_id,
        unit_id,
        "penalty",
        penalty,
        today,
        "onsite",
        statements=body.statement,
        number=number,
        taken=True,
    )
    _update(session, case_id, decided_on=today, file_due=workdays.wd_after(session, today, ONSITE_FILE_WD))
    _event(
        session,
        case_id,
        scope.username,
        "decide_onsite",
        None,
        "onsite_decided",
        {"penalty": penalty, "officers": body.officer_ids, "statement": body.statement, "discretion": verdict},
    )
    return _finish(session, scope, case_id, "onsite")
