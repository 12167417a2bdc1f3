"""Investigation (调查取证): rights told, evidence, facts, the report with its discretion reasons,
suspension, resumption, termination and the extension of the time limit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import workdays
from geo.cases.actions import PAUSED, PRE_DECISION, Ctx, Step, action
from geo.cases.forms import Body, Note, Penalty
from geo.cases.penalties import _judge_case, _legal_review_if_item_needs, _past
from geo.cases.rules import (
    CLOSE_WD,
    EVIDENCE_KINDS,
    FIRST_EXTENSION_DAYS,
    RULES,
)
from geo.cases.steps.common import Ground, Plain, _decision_due, _end_pause, _open_review, _start_pause
from geo.cases.store import _update
from geo.cases.timeline import BackEntry
from geo.infra.errors import Refused


class StartInvestigation(Body):
    rights_told: bool = Field(description="陈述、申辩、申请回避 rights told at the first evidence-taking")
    note: str | None = Note


@action(
    "start_investigation",
    ("开始调查", "Start the investigation"),
    ("filed",),
    "case.handle",
    StartInvestigation,
    handler=True,
)
def _start(ctx: Ctx, body: StartInvestigation) -> Step:
    if not body.rights_told:
        raise Refused([{"rule": "rights_notice"}], RULES)
    return "investigating", {"rights_told": True, "note": body.note}


class Evidence(Body):
    kind: Literal[EVIDENCE_KINDS]  # type: ignore[valid-type]
    description: str = Field(min_length=1, max_length=2000)
    collected_on: dt.date | None = None
    original: bool = True
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")


@action("record_evidence", ("登记证据", "Record evidence"), ("investigating",), "case.handle", Evidence, handler=True)
def _evidence(ctx: Ctx, body: Evidence) -> Step:
    on = _past(body.collected_on, ctx.today)
    return None, {
        "kind": body.kind,
        "description": body.description,
        "collected_on": on.isoformat(),
        "original": body.original,
    }


class Facts(Body):
    facts: str | None = Field(None, max_length=5000)
    proposed: Penalty | None = None
    discretion_reason: str | None = Field(None, max_length=2000)


@action(
    "update_facts",
    ("修改事实或处罚意见", "Change facts or the proposal"),
    ("investigating", "statements", "hearing_reported"),
    "case.handle",
    Facts,
    handler=True,
)
def _facts(ctx: Ctx, body: Facts) -> Step:
    sets: dict[str, Any] = {"facts_version": ctx.case["facts_version"] + 1}
    if body.facts is not None:
        sets["facts"] = body.facts
    if body.discretion_reason is not None:
        sets["discretion_reason"] = body.discretion_reason
    verdict = None
    if body.proposed is not None:
        proposed = body.proposed.as_json()
        reason = body.discretion_reason if body.discretion_reason is not None else ctx.case["discretion_reason"]
        verdict = _judge_case(ctx, proposed, reason)
        _legal_review_if_item_needs(ctx, verdict)
        sets["proposed"] = json.dumps(proposed, ensure_ascii=False)
        sets["discretion"] = json.dumps(verdict, ensure_ascii=False)
    _update(ctx.session, ctx.id, **sets)
    return None, {
        "facts_version": sets["facts_version"],
        "proposed": body.proposed.as_json() if body.proposed else None,
        "discretion": verdict,
    }


class Report(Body):
    facts: str = Field(min_length=1, max_length=5000, description="事实及主要证据")
    proposed: Penalty
    discretion_reason: str = Field(min_length=1, max_length=2000, description="自由裁量的理由")


def _has_evidence(ctx: Ctx) -> list[str]:
    found = ctx.one("SELECT 1 FROM case_event WHERE case_id = :c AND action = 'record_evidence' LIMIT 1")
    return [] if found else ["evidence_required"]


@action(
    "close_investigation",
    ("调查终结，提交审核", "Close the investigation and send to review"),
    ("investigating",),
    "case.handle",
    Report,
    check=_has_evidence,
    handler=True,
)
def _close_investigation(ctx: Ctx, body: Report) -> Step:
    broken = _has_evidence(ctx)
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    version = ctx.case["facts_version"] + 1
    proposed = body.proposed.as_json()
    verdict = _judge_case(ctx, proposed, body.discretion_reason)
    _legal_review_if_item_needs(ctx, verdict)
    _update(
        ctx.session,
        ctx.id,
        facts=body.facts,
        proposed=json.dumps(proposed, ensure_ascii=False),
        discretion_reason=body.discretion_reason,
        discretion=json.dumps(verdict, ensure_ascii=False),
        facts_version=version,
    )
    kind = _open_review(ctx, version)
    return "under_review", {"review": kind, "proposed": proposed, "facts_version": version, "discretion": verdict}


@action(
    "resubmit_review",
    ("重新提交审核", "Send back to review"),
    ("awaiting_approval", "approved", "notified", "statements", "hearing_reported"),
    "case.handle",
    Plain,
    handler=True,
)
def _resubmit(ctx: Ctx, body: Plain) -> Step:
    return "under_review", {"review": _open_review(ctx, ctx.case["facts_version"]), "note": body.note}


@action("suspend", ("中止调查", "Suspend"), ("investigating",), "case.approve", Ground)
def _suspend(ctx: Ctx, body: Ground) -> Step:
    _start_pause(ctx, body.kind, ctx.today)
    return "suspended", {"ground": body.ground, "kind": body.kind}


@action("resume", ("恢复调查", "Resume"), ("suspended",), "case.approve", Plain)
def _resume(ctx: Ctx, body: Plain) -> Step:
    days = _end_pause(ctx)
    return "investigating", {"paused_days": days, "note": body.note}


@action("terminate", ("终止调查", "Terminate"), ("investigating", "suspended"), "case.approve", Ground)
def _terminate(ctx: Ctx, body: Ground) -> Step:
    if ctx.case["status"] == "suspended":
        _end_pause(ctx)
    _update(ctx.session, ctx.id, close_due=workdays.wd_after(ctx.session, ctx.today, CLOSE_WD))
    return "terminated", {"ground": body.ground}


class Extension(Body):
    days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=2000)
    by_panel: bool = Field(
        False, description="decided by the heads' collective discussion on record (any further extension)"
    )


def _extension_check(ctx: Ctx) -> list[str]:
    due = ctx.case["decision_due"]
    return ["extension_after_limit"] if due is not None and ctx.today > due else []


@action(
    "extend",
    ("延长办案期限", "Extend the time limit"),
    PRE_DECISION + PAUSED,
    "case.approve",
    Extension,
    check=_extension_check,
)
def _extend(ctx: Ctx, body: Extension) -> Step:
    """Before the limit has passed (an expired limit is not revived); the first 30 days by the
    head, anything more by the heads' collective discussion, recorded first (程序规定 第六十四条)."""
    broken = _extension_check(ctx)
    earlier = ctx.one("SELECT count(*) AS n FROM case_extension WHERE case_id = :c AND kind = 'decide'").n
    if not body.by_panel and (earlier or body.days > FIRST_EXTENSION_DAYS):
        broken.append("extension_once")
    if body.by_panel and ctx.one("SELECT 1 FROM case_panel WHERE case_id = :c AND held_on <= :d", d=ctx.today) is None:
        broken.append("extension_panel")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    ctx.session.execute(
        text(
            "INSERT INTO case_extension (case_id, kind, days, by_panel, reason, approved_by, granted_on) "
            "VALUES (:c, 'decide', :d, :p, :r, :a, :on)"
        ),
        {
            "c": ctx.id,
            "d": body.days,
            "p": body.by_panel,
            "r": body.reason,
            "a": ctx.scope.username,
            "on": ctx.today,
        },
    )
    days = ctx.case["extension_days"] + body.days
    _update(ctx.session, ctx.id, extension_days=days, decision_due=_decision_due(ctx, extension_days=days))
    return None, {"days": body.days, "by_panel": body.by_panel, "reason": body.reason}
