"""Collective discussion (集体讨论), the decision behind the database's gate, its service,
performance, closing, and the filing (备案) of an on-the-spot decision."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import workdays
from geo.cases.actions import PAUSED, PRE_DECISION, Ctx, Step, action
from geo.cases.forms import Body, Penalty
from geo.cases.penalties import _judge_case, _past, fined_before, law_applied
from geo.cases.rules import (
    CLOSE_WD,
    RULES,
    SERVICE_WD,
)
from geo.cases.steps.common import Plain, Serve, _serve
from geo.cases.store import _insert_decision, _update
from geo.cases.timeline import BackEntry
from geo.infra.errors import Refused


class Panel(Body):
    held_on: dt.date | None = None
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")
    participants: list[str] = Field(min_length=2, max_length=30, description="the heads who took part")
    minutes: str = Field(min_length=1, max_length=20000)
    conclusion: str = Field(min_length=1, max_length=2000)


@action(
    "record_panel",
    ("记录集体讨论", "Record the collective discussion"),
    PRE_DECISION + PAUSED,  # for the decision, and for an extension beyond the first 30 days
    "case.approve",
    Panel,
)
def _panel(ctx: Ctx, body: Panel) -> Step:
    on = _past(body.held_on, ctx.today)
    ctx.session.execute(
        text("""INSERT INTO case_panel (case_id, held_on, participants, minutes, conclusion, facts_version, created_by)
                VALUES (:c, :d, :p, :m, :k, :v, :a)"""),
        {
            "c": ctx.id,
            "d": on,
            "p": body.participants,
            "m": body.minutes,
            "k": body.conclusion,
            "v": ctx.case["facts_version"],
            "a": ctx.scope.username,
        },
    )
    return None, {"participants": body.participants, "conclusion": body.conclusion}


class Decide(Body):
    kind: Literal["penalty", "no_penalty_minor", "no_penalty_not_established", "transfer", "transfer_judicial"]
    penalty: Penalty | None = Field(None, description="defaults to the proposal")
    statements_adopted: str | None = Field(None, max_length=2000, description="陈述、申辩的采纳情况及理由")
    education: str | None = Field(None, max_length=2000, description="教育 given with a 不予处罚")


def _decision_check(ctx: Ctx) -> list[str]:
    kind = "penalty" if ctx.case["proposed"] else "no_penalty_not_established"
    return _gate_rules(ctx, kind, ctx.case["proposed"])


def _gate_rules(ctx: Ctx, kind: str, penalty: dict[str, Any] | None) -> list[str]:
    row = ctx.one(
        "SELECT lawgrid_decision_gates(:c, :k, CAST(:p AS jsonb), :d) "
        "|| lawgrid_statutory_gates(:c, :k, CAST(:p AS jsonb)) AS g",
        k=kind,
        p=json.dumps(penalty) if penalty else None,
        d=ctx.today,
    )
    return list(row.g)


@action(
    "decide",
    ("作出决定", "Decide"),
    ("awaiting_approval", "notified", "statements", "hearing_reported"),
    "case.approve",
    Decide,
    check=_decision_check,
)
def _decide(ctx: Ctx, body: Decide) -> Step:
    penalty = (body.penalty.as_json() if body.penalty else ctx.case["proposed"]) if body.kind == "penalty" else None
    # the law at the act, or the lighter one in force now (处罚法 第三十七条)
    law = law_applied(ctx.session, ctx.case, ctx.today, penalty) if ctx.case["item_code"] else None
    if law and law["applied"] != ctx.case["item_version"]:
        _update(ctx.session, ctx.id, item_version=law["applied"])
        ctx.case["item_version"] = law["applied"]
    # the discretion check first: it sets the judged level the statutory gate reads
    verdict = _judge_case(ctx, penalty, ctx.case["discretion_reason"]) if penalty else None
    broken = _gate_rules(ctx, body.kind, penalty)
    if penalty and float(penalty.get("fine_yuan") or 0) > 0 and fined_before(ctx.session, ctx.case):
        broken.append("one_act_one_fine")
    if body.kind == "penalty" and penalty is None:
        broken.append("penalty_proposed")
    if (
        body.kind == "penalty"
        and ctx.one("SELECT 1 FROM case_statement WHERE case_id = :c LIMIT 1")
        and not body.statements_adopted
    ):
        broken.append("statements_adoption")
    if body.kind == "no_penalty_minor" and not body.education:
        broken.append("education_required")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    number = _insert_decision(
        ctx.session,
        ctx.scope,
        ctx.id,
        ctx.case["unit_id"],
        body.kind,
        penalty,
        ctx.today,
        "decision",
        statements=body.statements_adopted,
        education=body.education,
    )
    _update(
        ctx.session,
        ctx.id,
        decided_on=ctx.today,
        response_due=None,
        service_due=workdays.wd_after(ctx.session, ctx.today, SERVICE_WD),
    )
    return "decided", {
        "decision_no": number,
        "kind": body.kind,
        "penalty": penalty,
        "discretion": verdict,
        "law": law,
    }


@action("serve", ("送达决定书", "Serve the decision"), ("decided",), "case.handle", Serve, handler=True)
def _serve_decision(ctx: Ctx, body: Serve) -> Step:
    on, method, papers = _serve(ctx, body, "decision")
    decision = ctx.one("SELECT kind, penalty FROM case_decision WHERE case_id = :c")
    owes = decision.kind == "penalty" and float((decision.penalty or {}).get("fine_yuan") or 0) > 0
    late = on > ctx.case["service_due"]
    close_due = None if owes else workdays.wd_after(ctx.session, on, CLOSE_WD)
    _update(ctx.session, ctx.id, served_on=on, service_due=None, close_due=close_due)
    # The fine is paid through the non-tax system (the next issue); until then its receipt is recorded.
    return ("executing" if owes else "served"), {"served_on": on.isoformat(), "method": method, "late": late, **papers}


class Performance(Body):
    performed_on: dt.date | None = None
    reference: str = Field(min_length=1, max_length=200, description="bank serial or receipt of the payment")
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")


@action(
    "record_performance", ("登记履行", "Record performance"), ("executing",), "case.handle", Performance, handler=True
)
def _performed(ctx: Ctx, body: Performance) -> Step:
    on = _past(body.performed_on, ctx.today)
    _update(ctx.session, ctx.id, close_due=workdays.wd_after(ctx.session, on, CLOSE_WD))
    return "performed", {"performed_on": on.isoformat(), "reference": body.reference}


@action("close", ("结案", "Close the case"), ("served", "performed", "terminated"), "case.approve", Plain)
def _close(ctx: Ctx, body: Plain) -> Step:
    late = ctx.case["close_due"] is not None and ctx.today > ctx.case["close_due"]
    _update(ctx.session, ctx.id, closed_on=ctx.today, close_due=None)
    return "closed", {"note": body.note, "late": late}


@action("file_onsite", ("当场处罚备案", "File the on-the-spot decision"), ("onsite_decided",), "case.manage", Plain)
def _file_onsite(ctx: Ctx, body: Plain) -> Step:
    late = ctx.today > ctx.case["file_due"]
    _update(ctx.session, ctx.id, file_due=None, closed_on=ctx.today)
    return "onsite_filed", {"note": body.note, "late": late}
