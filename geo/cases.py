"""Cases (办案): filing (立案), the ordinary procedure as a state machine, and the simple
procedure (当场处罚). Every step is an `Action`: the statuses it leaves, the permission it
needs, its typed fields, what it checks, and what it does. `perform` is the one path for the
API, the pages, the CLI and batch work: it locks the case, checks version, status, role,
scope and the action's rules, runs it, writes the append-only history and the audit trail,
and refreshes the case's clocks. The legal gates the database can hold (crew, reviewer,
hearing host, decision) are its functions and triggers (migration 0015); `available` asks the
same functions, so the case file explains every step the user may not take.

Specification: ../shared/domain/CASE-PROCEDURE.md §4.1 (T1–T24, T29–T31)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import audit, case_clocks, case_sources, db, discretion, doc_numbers, items, policy, workdays
from geo.accounts import Scope
from geo.case_rules import (
    CLOSE_WD,
    DECISION_DAYS,
    EVIDENCE_KINDS,
    FIRST_EXTENSION_DAYS,
    HEARING_HOST_WD,
    HEARING_NOTICE_WD,
    HEARING_REPORT_WD,
    LIMITATION_YEARS,
    ONSITE_FILE_WD,
    PENALTY_KINDS,
    RESPONSE_WD,
    REVIEW_CHECKS,
    REVIEW_WD,
    RULES,
    SERVICE_WD,
    hearing_right,
)
from geo.errors import Conflict, InvalidInput, LawGridError, NotFound, Refused
from geo.requests import parse
from geo.timezone import today as beijing_today

PRE_DECISION = (
    "filed",
    "investigating",
    "under_review",
    "awaiting_approval",
    "approved",
    "notified",
    "statements",
    "hearing_reported",
)
PAUSED = ("suspended", "hearing_requested", "hearing_held")
FINISHED = ("closed", "onsite_filed")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Note = Field(None, max_length=2000)


class Penalty(Body):
    kinds: list[Literal[PENALTY_KINDS]] = Field(min_length=1, max_length=6)  # type: ignore[valid-type]
    fine_yuan: Decimal = Field(Decimal(0), ge=0, le=10**10, max_digits=14, decimal_places=2)
    confiscation_yuan: Decimal = Field(Decimal(0), ge=0, le=10**10, max_digits=14, decimal_places=2)
    tier: str | None = Field(None, max_length=40, description="the item's statutory tier (defaults to its first)")
    base_yuan: Decimal | None = Field(
        None, ge=0, le=10**12, max_digits=16, decimal_places=2, description="计罚基数: 违法所得, 货值金额, 工程造价…"
    )
    circumstances: dict[Literal[discretion.CIRCUMSTANCE_KEYS], bool] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="statutory circumstances recorded (处罚法 第三十至三十三条、第四十九条)"
    )
    factors: dict[str, Decimal | bool] = Field(
        default_factory=dict, max_length=20, description="the item's discretion factors (经营额, 危害后果…)"
    )
    reduced: bool = Field(False, description="减轻: chosen on a ground of 第三十二条")

    @model_validator(mode="after")
    def _fine_matches(self) -> Penalty:
        if ("fine" in self.kinds) != (self.fine_yuan > 0):
            raise ValueError("a fine is listed in kinds exactly when fine_yuan is above zero")
        return self

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kinds": list(self.kinds),
            "fine_yuan": float(self.fine_yuan),
            "confiscation_yuan": float(self.confiscation_yuan),
        }
        if self.tier:
            out["tier"] = self.tier
        if self.base_yuan is not None:
            out["base_yuan"] = float(self.base_yuan)
        if self.circumstances:
            out["circumstances"] = dict(self.circumstances)
        if self.factors:
            out["factors"] = {k: v if isinstance(v, bool) else float(v) for k, v in self.factors.items()}
        if self.reduced:
            out["reduced"] = True
        return out


class Party(Body):
    kind: Literal["natural", "legal", "other"]
    name: str = Field(min_length=1, max_length=200)
    id_no: str | None = Field(None, max_length=40, description="credit code or identity number")
    address: str | None = Field(None, max_length=300)


# -- filing (立案) and the simple procedure -------------------------------------------------
class NewCase(Body):
    source_id: int = Field(ge=1)
    item_code: str = Field(min_length=1, max_length=64)
    officer_ids: list[int] = Field(min_length=2, max_length=10, description="two or more certified officers")
    party: Party | None = Field(None, description="defaults to the source's target")
    facts: str = Field("", max_length=5000)
    act_ended_on: dt.date | None = Field(None, description="the day the act ended (limitation, Art. 36)")
    major: bool = Field(False, description="情节复杂或者重大违法: collective discussion and legal review")
    legal_review_reason: str | None = Field(None, max_length=500, description="重大公共利益, 疑难复杂, ...")
    version: int | None = None


class OnsiteCase(Body):
    target_id: int | None = Field(None, ge=1)
    party: Party | None = None
    unit_id: int | None = Field(None, ge=1, description="defaults to the officers' unit")
    item_code: str = Field(min_length=1, max_length=64)
    officer_ids: list[int] = Field(min_length=2, max_length=10)
    facts: str = Field(min_length=1, max_length=5000)
    penalty: Penalty
    rights_told: bool = Field(description="告知 and 陈述申辩 recorded on the spot (程序规定 第六十九条)")
    statement: str | None = Note
    decision_no: str | None = Field(
        None, max_length=60, description="a number of the officer's own block (a decision numbered offline)"
    )
    client_key: str | None = Field(
        None, max_length=80, description="a terminal's retry key: one case however often sent"
    )


def file_case(session: Session, scope: Scope, body: NewCase, *, today: dt.date | None = None) -> dict[str, Any]:
    """立案 (T6): the organ head approves the 立案审批表; two certified officers, not recused."""
    policy.authorize(scope, "case.approve")
    today = today or beijing_today()
    source = case_sources.load(session, scope, body.source_id, lock=True)
    if source["status"] not in case_sources.OPEN:
        raise Conflict(f"case source {body.source_id} is {source['status']}; only an open source is filed")
    unit_id = int(source["unit_id"])
    broken = []
    item = _penalty_item(session, unit_id, body.item_code)
    if item is None:
        broken.append({"rule": "item_power_penalty", "item": body.item_code})
    if body.act_ended_on and body.act_ended_on < _years_before(source["received_on"], LIMITATION_YEARS):
        broken.append({"rule": "limitation"})
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
        legal_review_reason=body.legal_review_reason,
    )
    _add_officers(session, case_id, body.officer_ids)
    case_sources.mark_filed(session, body.source_id, today, scope.username)
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
    policy.authorize(scope, "case.handle")
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
        number=body.decision_no,
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


# -- the machine ----------------------------------------------------------------------------
@dataclass
class Ctx:
    session: Session
    scope: Scope
    case: dict[str, Any]
    today: dt.date

    @property
    def id(self) -> int:
        return int(self.case["id"])

    def one(self, sql: str, **params: Any) -> Any:
        return self.session.execute(text(sql), {"c": self.id, **params}).first()


@dataclass(frozen=True)
class Action:
    name: str
    label: tuple[str, str]
    sources: tuple[str, ...]
    permission: str
    body: type[BaseModel]
    run: Callable[[Ctx, Any], tuple[str | None, dict[str, Any]]]
    check: Callable[[Ctx], list[str]] | None = None
    handler: bool = False  # only the case's own officers


ACTIONS: dict[str, Action] = {}
Step = tuple[str | None, dict[str, Any]]
Run = Callable[[Ctx, Any], Step]


def action(
    name: str,
    label: tuple[str, str],
    sources: tuple[str, ...],
    permission: str,
    body: type[BaseModel],
    *,
    check: Callable[[Ctx], list[str]] | None = None,
    handler: bool = False,
) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        ACTIONS[name] = Action(name, label, sources, permission, body, run, check, handler)
        return run

    return register


class Plain(Body):
    note: str | None = Note


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


class ReviewBody(Body):
    opinion: Literal["agree", "correct", "supplement", "other"]
    checks: dict[Literal[REVIEW_CHECKS], bool] = Field(default_factory=dict)  # type: ignore[valid-type]
    reasons: str | None = Field(None, max_length=4000)
    qualification: str | None = Field(None, min_length=4, max_length=40, description="法律职业资格 number")
    discretion: Literal["accept", "return"] | None = Field(None, description="认可或退回自由裁量结论")


def _review_check(ctx: Ctx) -> list[str]:
    review = ctx.one("SELECT kind FROM case_review WHERE case_id = :c AND decided_at IS NULL")
    if review is None:
        return []
    rules = []
    if review.kind == "legal" and ctx.scope.role not in ("legal_reviewer",):
        rules.append("review_kind")
    gates = ctx.one("SELECT lawgrid_review_gates(:c, :u, :k) AS g", u=ctx.scope.user_id, k=review.kind)
    return rules + list(gates.g)


@action("review", ("审核", "Review"), ("under_review",), "case.review", ReviewBody, check=_review_check)
def _review(ctx: Ctx, body: ReviewBody) -> Step:
    broken = _review_check(ctx)
    if body.opinion == "agree" and not all(body.checks.get(k) for k in REVIEW_CHECKS):
        broken.append("review_checks")
    if body.opinion != "agree" and not (body.reasons and body.reasons.strip()):
        broken.append("review_reasons")
    if body.opinion == "agree" and ctx.case["discretion"] and body.discretion != "accept":
        broken.append("discretion_review")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    if body.qualification:
        ctx.session.execute(
            text("UPDATE app_user SET legal_qualification_no = coalesce(legal_qualification_no, :q) WHERE id = :u"),
            {"q": body.qualification, "u": ctx.scope.user_id},
        )
    row = ctx.session.execute(
        text("""UPDATE case_review SET reviewer_user = :u, reviewer_qualification = :q, checks = CAST(:ch AS jsonb),
                    opinion = :o, reasons = :r, decided_at = clock_timestamp()
                WHERE case_id = :c AND decided_at IS NULL RETURNING id, kind, due"""),
        {
            "u": ctx.scope.user_id,
            "q": body.qualification,
            "ch": json.dumps({**body.checks, **({"discretion": body.discretion} if body.discretion else {})}),
            "o": body.opinion,
            "r": body.reasons,
            "c": ctx.id,
        },
    ).first()
    _update(ctx.session, ctx.id, review_due=None)
    if row is None:
        raise Conflict(f"case {ctx.id} has no open review")
    late = ctx.today > row.due
    to = "awaiting_approval" if body.opinion == "agree" else "investigating"
    return to, {
        "review_id": row.id,
        "kind": row.kind,
        "opinion": body.opinion,
        "reasons": body.reasons,
        "discretion": body.discretion,
        "late": late,
    }


class Ground(Body):
    ground: str = Field(min_length=1, max_length=2000)
    kind: Literal["suspension", "testing", "identification", "public_notice", "refund_order"] = "suspension"


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
    by_panel: bool = Field(False, description="decided by the heads' collective discussion (any further extension)")


@action("extend", ("延长办案期限", "Extend the time limit"), PRE_DECISION + PAUSED, "case.approve", Extension)
def _extend(ctx: Ctx, body: Extension) -> Step:
    earlier = ctx.one("SELECT count(*) AS n FROM case_extension WHERE case_id = :c AND kind = 'decide'").n
    if not body.by_panel and (earlier or body.days > FIRST_EXTENSION_DAYS):
        raise Refused([{"rule": "extension_once"}], RULES)
    ctx.session.execute(
        text(
            "INSERT INTO case_extension (case_id, kind, days, by_panel, reason, approved_by) "
            "VALUES (:c, 'decide', :d, :p, :r, :a)"
        ),
        {"c": ctx.id, "d": body.days, "p": body.by_panel, "r": body.reason, "a": ctx.scope.username},
    )
    days = ctx.case["extension_days"] + body.days
    _update(ctx.session, ctx.id, extension_days=days, decision_due=_decision_due(ctx, extension_days=days))
    return None, {"days": body.days, "by_panel": body.by_panel, "reason": body.reason}


def _needs_proposal(ctx: Ctx) -> list[str]:
    return [] if ctx.case["proposed"] else ["penalty_proposed"]


@action(
    "approve", ("批准告知", "Approve the notice"), ("awaiting_approval",), "case.approve", Plain, check=_needs_proposal
)
def _approve(ctx: Ctx, body: Plain) -> Step:
    if _needs_proposal(ctx):
        raise Refused([{"rule": "penalty_proposed"}], RULES)
    return "approved", {"note": body.note}


class Serve(Body):
    served_on: dt.date | None = None
    method: Literal["direct", "left", "electronic", "post", "entrusted", "forwarded", "public_notice"] = "direct"
    receiver: str | None = Field(None, max_length=200)
    witness: str | None = Field(None, max_length=200)
    address_confirmed: bool = False


@action("notify", ("送达告知书", "Serve the notice"), ("approved",), "case.handle", Serve, handler=True)
def _notify(ctx: Ctx, body: Serve) -> Step:
    on = _serve(ctx, body, "notice")
    proposed = ctx.case["proposed"]
    right = hearing_right(proposed, ctx.case["party_kind"])
    due = workdays.wd_after(ctx.session, on, RESPONSE_WD)
    ctx.session.execute(
        text("""INSERT INTO case_notice (case_id, proposed, hearing_right, served_on, response_due, facts_version,
                    created_by) VALUES (:c, CAST(:p AS jsonb), :h, :s, :d, :v, :a)"""),
        {
            "c": ctx.id,
            "p": json.dumps(proposed),
            "h": right,
            "s": on,
            "d": due,
            "v": ctx.case["facts_version"],
            "a": ctx.scope.username,
        },
    )
    _update(ctx.session, ctx.id, response_due=due)
    return "notified", {
        "served_on": on.isoformat(),
        "hearing_right": right,
        "response_due": due.isoformat(),
        "proposed": proposed,
        "method": body.method,
    }


class Waiver(Body):
    waived_on: dt.date | None = None
    note: str = Field(min_length=1, max_length=2000, description="the party's written waiver")


@action(
    "waive",
    ("当事人书面放弃陈述申辩", "The party waives in writing"),
    ("notified",),
    "case.handle",
    Waiver,
    handler=True,
)
def _waive(ctx: Ctx, body: Waiver) -> Step:
    on = _past(body.waived_on, ctx.today)
    ctx.session.execute(
        text("UPDATE case_notice SET waived_on = :d WHERE id = (SELECT max(id) FROM case_notice WHERE case_id = :c)"),
        {"d": on, "c": ctx.id},
    )
    return None, {"waived_on": on.isoformat(), "note": body.note}


class Statement(Body):
    received_on: dt.date | None = None
    form: Literal["oral", "written"]
    content: str = Field(min_length=1, max_length=5000)
    recheck_result: Literal["adopted", "partly", "rejected"] = Field(description="复核")
    reasons: str = Field(min_length=1, max_length=2000)


@action(
    "record_statement",
    ("记录陈述申辩及复核", "Record statements and the re-check"),
    ("notified", "statements"),
    "case.handle",
    Statement,
    handler=True,
)
def _statement(ctx: Ctx, body: Statement) -> Step:
    on = _past(body.received_on, ctx.today)
    ctx.session.execute(
        text("""INSERT INTO case_statement (case_id, received_on, form, content, recheck_result, reasons, created_by)
                VALUES (:c, :d, :f, :t, :r, :why, :a)"""),
        {
            "c": ctx.id,
            "d": on,
            "f": body.form,
            "t": body.content,
            "r": body.recheck_result,
            "why": body.reasons,
            "a": ctx.scope.username,
        },
    )
    return "statements", {"form": body.form, "recheck_result": body.recheck_result}


class HearingRequest(Body):
    requested_on: dt.date | None = None


def _hearing_check(ctx: Ctx) -> list[str]:
    notice = ctx.one("SELECT hearing_right, response_due FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1")
    if notice is None:
        return ["notice_served"]
    rules = [] if notice.hearing_right else ["hearing_right"]
    return rules + (["hearing_request_window"] if ctx.today > notice.response_due else [])


@action(
    "request_hearing",
    ("当事人申请听证", "The party asks for a hearing"),
    ("notified",),
    "case.handle",
    HearingRequest,
    check=_hearing_check,
    handler=True,
)
def _request_hearing(ctx: Ctx, body: HearingRequest) -> Step:
    on = _past(body.requested_on, ctx.today)
    notice = ctx.one("SELECT hearing_right, response_due FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1")
    broken = [] if notice.hearing_right else ["hearing_right"]
    if on > notice.response_due:
        broken.append("hearing_request_window")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    ctx.session.execute(
        text("INSERT INTO case_hearing (case_id, requested_on) VALUES (:c, :d)"), {"c": ctx.id, "d": on}
    )
    _start_pause(ctx, "hearing", on)
    _update(ctx.session, ctx.id, hearing_host_due=workdays.wd_after(ctx.session, on, HEARING_HOST_WD))
    return "hearing_requested", {"requested_on": on.isoformat()}


class Schedule(Body):
    host: str = Field(min_length=2, max_length=64, description="username of the hearing officer")
    notice_served_on: dt.date
    hearing_on: dt.date
    public: bool = True


@action(
    "schedule_hearing",
    ("指定听证主持人并通知", "Name the host and give notice"),
    ("hearing_requested",),
    "case.approve",
    Schedule,
)
def _schedule(ctx: Ctx, body: Schedule) -> Step:
    host = ctx.session.execute(
        text("SELECT id, role FROM app_user WHERE username = :u AND active"), {"u": body.host}
    ).first()
    broken = []
    if host is None or host.role != "hearing_officer":
        broken.append("host_role")
    if body.hearing_on < workdays.wd_after(ctx.session, body.notice_served_on, HEARING_NOTICE_WD):
        broken.append("hearing_notice_7wd")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    ctx.session.execute(
        text(
            "UPDATE case_hearing SET host_user = :h, notice_served_on = :n, hearing_on = :d, public = :p "
            "WHERE case_id = :c"
        ),
        {
            "h": host.id if host else None,
            "n": body.notice_served_on,
            "d": body.hearing_on,
            "p": body.public,
            "c": ctx.id,
        },
    )
    _update(ctx.session, ctx.id, hearing_host_due=None)
    return None, {"host": body.host, "hearing_on": body.hearing_on.isoformat(), "public": body.public}


def _host_check(ctx: Ctx) -> list[str]:
    row = ctx.one("SELECT host_user FROM case_hearing WHERE case_id = :c")
    return [] if row is not None and row.host_user == ctx.scope.user_id else ["host_only"]


class Held(Body):
    held_on: dt.date | None = None
    outcome: Literal["held", "terminated"] = "held"
    transcript: str = Field(min_length=1, max_length=20000, description="听证笔录, signed or the refusal noted")


@action(
    "hold_hearing", ("举行听证", "Hold the hearing"), ("hearing_requested",), "case.hearing", Held, check=_host_check
)
def _hold(ctx: Ctx, body: Held) -> Step:
    on = _past(body.held_on, ctx.today)
    broken = _host_check(ctx)
    scheduled = ctx.one("SELECT hearing_on FROM case_hearing WHERE case_id = :c")
    if scheduled.hearing_on is None or on < scheduled.hearing_on:
        broken.append("date_order")
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)
    ctx.session.execute(
        text("UPDATE case_hearing SET held_on = :d, outcome = :o, transcript = :t WHERE case_id = :c"),
        {"d": on, "o": body.outcome, "t": body.transcript, "c": ctx.id},
    )
    _update(ctx.session, ctx.id, hearing_report_due=workdays.wd_after(ctx.session, on, HEARING_REPORT_WD))
    return "hearing_held", {"held_on": on.isoformat(), "outcome": body.outcome}


class HearingReport(Body):
    report: str = Field(min_length=1, max_length=20000)


@action(
    "report_hearing",
    ("提交听证报告", "Report on the hearing"),
    ("hearing_held",),
    "case.hearing",
    HearingReport,
    check=_host_check,
)
def _report(ctx: Ctx, body: HearingReport) -> Step:
    if _host_check(ctx):
        raise Refused([{"rule": "host_only"}], RULES)
    ctx.session.execute(
        text("UPDATE case_hearing SET report = :r, report_on = :d WHERE case_id = :c"),
        {"r": body.report, "d": ctx.today, "c": ctx.id},
    )
    days = _end_pause(ctx)
    # A heard case directly concerns the party's major rights (处罚法 第五十八条(二)): its legal
    # review comes after the hearing, so the hearing counts as a change of the facts (I).
    _update(
        ctx.session,
        ctx.id,
        hearing_report_due=None,
        legal_review_required=True,
        legal_review_reason="经过听证（处罚法第五十八条第一款第二项）",
        facts_version=ctx.case["facts_version"] + 1,
    )
    return "hearing_reported", {"paused_days": days}


class Panel(Body):
    held_on: dt.date | None = None
    participants: list[str] = Field(min_length=2, max_length=30, description="the heads who took part")
    minutes: str = Field(min_length=1, max_length=20000)
    conclusion: str = Field(min_length=1, max_length=2000)


@action(
    "record_panel",
    ("记录集体讨论", "Record the collective discussion"),
    ("awaiting_approval", "notified", "statements", "hearing_reported"),
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
    # the discretion check first: it sets the judged level the statutory gate reads
    verdict = _judge_case(ctx, penalty, ctx.case["discretion_reason"]) if penalty else None
    broken = _gate_rules(ctx, body.kind, penalty)
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
    return "decided", {"decision_no": number, "kind": body.kind, "penalty": penalty, "discretion": verdict}


@action("serve", ("送达决定书", "Serve the decision"), ("decided",), "case.handle", Serve, handler=True)
def _serve_decision(ctx: Ctx, body: Serve) -> Step:
    on = _serve(ctx, body, "decision")
    decision = ctx.one("SELECT kind, penalty FROM case_decision WHERE case_id = :c")
    owes = decision.kind == "penalty" and float((decision.penalty or {}).get("fine_yuan") or 0) > 0
    late = on > ctx.case["service_due"]
    close_due = None if owes else workdays.wd_after(ctx.session, on, CLOSE_WD)
    _update(ctx.session, ctx.id, served_on=on, service_due=None, close_due=close_due)
    # The fine is paid through the non-tax system (the next issue); until then its receipt is recorded.
    return ("executing" if owes else "served"), {"served_on": on.isoformat(), "method": body.method, "late": late}


class Performance(Body):
    performed_on: dt.date | None = None
    reference: str = Field(min_length=1, max_length=200, description="bank serial or receipt of the payment")


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


# -- performing and explaining --------------------------------------------------------------
def load(session: Session, scope: Scope, case_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (
        session.execute(text("SELECT * FROM enf_case WHERE id = :i" + (" FOR UPDATE" if lock else "")), {"i": case_id})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no case {case_id}")
    if not scope.district_wide and row["unit_id"] not in (scope.unit_ids or ()):
        raise NotFound(f"no case {case_id} in your scope", rule="unit_scope")
    return dict(row)


def perform(
    session: Session,
    scope: Scope,
    case_id: int,
    name: str,
    data: dict[str, Any] | BaseModel,
    *,
    version: int | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Take one step on a case, by any path. Raises an error of geo.errors naming the rule."""
    step = ACTIONS.get(name)
    if step is None:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    policy.authorize(scope, step.permission)
    body = data if isinstance(data, BaseModel) else validate(step.body, data)
    case = load(session, scope, case_id, lock=True)
    if version is not None and version != case["version"]:
        raise Conflict(
            f"case {case_id} is at version {case['version']}, not {version}: reload it", rule="stale_version"
        )
    if case["status"] not in step.sources:
        raise Conflict(f"case {case_id} is {case['status']}; {name} applies to {', '.join(step.sources)}")
    ctx = Ctx(session, scope, case, today or beijing_today())
    if step.handler and not _is_handler(ctx):
        raise Refused([{"rule": "handler_only"}], RULES)
    with db.refusals(session, RULES):
        to, detail = step.run(ctx, body)
    status = to or case["status"]
    session.execute(
        text("UPDATE enf_case SET status = :s, version = version + 1, updated_at = now() WHERE id = :i"),
        {"s": status, "i": case_id},
    )
    _event(session, case_id, scope.username, name, case["status"], status, detail)
    return _finish(session, scope, case_id, name, detail)


def available(
    session: Session, scope: Scope, case: dict[str, Any], today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The steps that apply to the case now: each allowed, or refused with its rules."""
    ctx = Ctx(session, scope, case, today or beijing_today())
    handler = _is_handler(ctx)
    out = []
    for step in ACTIONS.values():
        if case["status"] not in step.sources:
            continue
        rules = [] if policy.allowed(scope, step.permission) else [f"role:{step.permission}"]
        if step.handler and not handler:
            rules.append("handler_only")
        if not rules and step.check is not None:
            try:
                rules += step.check(ctx)
            except LawGridError as exc:
                rules.append(exc.rule or exc.code)
        out.append(
            {
                "action": step.name,
                "label": {"zh": step.label[0], "en": step.label[1]},
                "allowed": not rules,
                "rules": [{"rule": r, "zh": RULES.get(r, (r, r))[0], "en": RULES.get(r, (r, r))[1]} for r in rules],
            }
        )
    return out


validate = parse
"""A step's fields from a dict (the API, pages and CLI give dicts), each bad one named."""


# -- helpers ----------------------------------------------------------------------------------
def _finish(
    session: Session, scope: Scope, case_id: int, name: str, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    case_clocks.refresh(session, case_id)
    audit.record(
        session,
        scope.username,
        f"case_{name}",
        subject=f"case:{case_id}",
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )
    return load(session, scope, case_id)


def _event(
    session: Session, case_id: int, actor: str, name: str, frm: str | None, to: str | None, detail: dict[str, Any]
) -> None:
    session.execute(
        text(
            "INSERT INTO case_event (case_id, actor, action, from_status, to_status, detail) "
            "VALUES (:c, :a, :n, :f, :t, CAST(:d AS jsonb))"
        ),
        {
            "c": case_id,
            "a": actor,
            "n": name,
            "f": frm,
            "t": to,
            "d": json.dumps({k: v for k, v in detail.items() if v is not None}, ensure_ascii=False, default=str),
        },
    )


def _update(session: Session, case_id: int, **sets: Any) -> None:
    casts = {"proposed": "CAST(:proposed AS jsonb)", "discretion": "CAST(:discretion AS jsonb)"}
    assignments = ", ".join(f"{k} = {casts.get(k, ':' + k)}" for k in sets)
    session.execute(text(f"UPDATE enf_case SET {assignments} WHERE id = :case_id"), {**sets, "case_id": case_id})


def _gates(session: Session, sql: str, params: dict[str, Any]) -> None:
    broken = session.execute(text(sql), params).scalar_one()
    if broken:
        raise Refused([{"rule": r} for r in broken], RULES)


def _is_handler(ctx: Ctx) -> bool:
    if ctx.scope.officer_id is None:
        return False
    return (
        ctx.one("SELECT 1 FROM case_officer WHERE case_id = :c AND officer_id = :o", o=ctx.scope.officer_id) is not None
    )


def _open_review(ctx: Ctx, facts_version: int) -> str:
    kind = "legal" if ctx.case["legal_review_required"] or ctx.case["major"] else "case"
    due = workdays.wd_after(ctx.session, ctx.today, REVIEW_WD)
    ctx.session.execute(
        text("INSERT INTO case_review (case_id, kind, submitted_on, due, facts_version) VALUES (:c, :k, :s, :d, :v)"),
        {"c": ctx.id, "k": kind, "s": ctx.today, "d": due, "v": facts_version},
    )
    _update(ctx.session, ctx.id, review_due=due)
    return kind


def _start_pause(ctx: Ctx, kind: str, on: dt.date) -> None:
    """The 90-day clock stops (程序规定 第六十四条: 中止, 听证, 检测 ... do not count)."""
    ctx.session.execute(
        text("INSERT INTO case_pause (case_id, kind, started_on, approved_by) VALUES (:c, :k, :d, :a)"),
        {"c": ctx.id, "k": kind, "d": on, "a": ctx.scope.username},
    )


def _end_pause(ctx: Ctx) -> int:
    row = ctx.session.execute(
        text("UPDATE case_pause SET ended_on = :d WHERE case_id = :c AND ended_on IS NULL RETURNING started_on"),
        {"d": ctx.today, "c": ctx.id},
    ).first()
    days = (ctx.today - row.started_on).days if row else 0
    paused = ctx.case["paused_days"] + days
    _update(ctx.session, ctx.id, paused_days=paused, decision_due=_decision_due(ctx, paused_days=paused))
    return days


def _decision_due(ctx: Ctx, *, extension_days: int | None = None, paused_days: int | None = None) -> dt.date:
    ext = ctx.case["extension_days"] if extension_days is None else extension_days
    paused = ctx.case["paused_days"] if paused_days is None else paused_days
    return workdays.cd_after(ctx.session, ctx.case["filed_on"], DECISION_DAYS + ext + paused)


def _serve(ctx: Ctx, body: Serve, document: str) -> dt.date:
    on = _past(body.served_on, ctx.today)
    if (body.method == "electronic" and not body.address_confirmed) or (body.method == "left" and not body.witness):
        raise Refused([{"rule": "service_method"}], RULES)
    ctx.session.execute(
        text("""INSERT INTO case_service (case_id, document, method, served_on, receiver, witness, address_confirmed)
                VALUES (:c, :doc, :m, :d, :r, :w, :ac)"""),
        {
            "c": ctx.id,
            "doc": document,
            "m": body.method,
            "d": on,
            "r": body.receiver,
            "w": body.witness,
            "ac": body.address_confirmed,
        },
    )
    return on


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


def _penalty_item(session: Session, unit_id: int, item_code: str) -> Any:
    """The unit's penalty power for the item, with the item's current codified version."""
    return session.execute(
        text(
            "SELECT p.item_code, p.item_name, p.legal_basis, p.legal_review, e.version AS item_version "
            "FROM power_item p LEFT JOIN enforcement_item e ON e.code = p.item_code AND e.valid_to IS NULL "
            "WHERE p.unit_id = :u AND p.item_code = :i AND p.power_type_key = 'penalty'"
        ),
        {"u": unit_id, "i": item_code},
    ).first()


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
        item = items.get(session, item_code, item_version)
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


def _party_of_target(session: Session, target_id: int | None) -> Party | None:
    if target_id is None:
        return None
    row = session.execute(
        text("SELECT kind, name, credit_code, address FROM target WHERE id = :t"), {"t": target_id}
    ).first()
    if row is None:
        raise NotFound(f"no target {target_id}")
    return Party(
        kind="legal" if row.kind == "entity" else "other", name=row.name, id_no=row.credit_code, address=row.address
    )


def _officer_unit(session: Session, officer_id: int | None) -> int:
    unit = session.execute(text("SELECT unit_id FROM officer WHERE id = :o"), {"o": officer_id}).scalar()
    if unit is None:
        raise Refused([{"rule": "handler_only"}], RULES)
    return int(unit)


def _insert_case(
    session: Session,
    scope: Scope,
    procedure: str,
    status: str,
    unit_id: int,
    target_id: int | None,
    party: Party,
    item: Any,
    facts: str,
    today: dt.date,
    *,
    source_id: int | None = None,
    major: bool = False,
    act_ended_on: dt.date | None = None,
    legal_review_reason: str | None = None,
    proposed: dict[str, Any] | None = None,
    client_key: str | None = None,
) -> int:
    legal = bool(item.legal_review or major or legal_review_reason)
    reason = legal_review_reason or ("法制审核目录事项" if item.legal_review else "重大案件" if major else None)
    number = _number(session, unit_id, "case" if procedure == "ordinary" else "onsite", today.year, scope.username)
    due = workdays.cd_after(session, today, DECISION_DAYS) if procedure == "ordinary" else None
    case_id = session.execute(
        text("""INSERT INTO enf_case (case_no, source_id, procedure, status, unit_id, target_id, party_kind, party_name,
                    party_id_no, party_address, item_code, item_version, item_name, legal_basis, facts, proposed,
                    legal_review_required, legal_review_reason, major, act_ended_on, filed_on, decision_due,
                    created_by, client_key)
                VALUES (:no, :src, :proc, :st, :u, :t, :pk, :pn, :pid, :pa, :ic, :iv, :iname, :basis, :facts,
                    CAST(:prop AS jsonb), :legal, :lr, :major, :ended, :filed, :due, :by, :key) RETURNING id"""),
        {
            "no": number,
            "src": source_id,
            "proc": procedure,
            "st": status,
            "u": unit_id,
            "t": target_id,
            "pk": party.kind,
            "pn": party.name,
            "pid": party.id_no,
            "pa": party.address,
            "ic": item.item_code,
            "iv": item.item_version,
            "iname": item.item_name,
            "basis": item.legal_basis,
            "facts": facts,
            "prop": json.dumps(proposed) if proposed else None,
            "legal": legal,
            "lr": reason,
            "major": major,
            "ended": act_ended_on,
            "filed": today,
            "due": due,
            "by": scope.username,
            "key": client_key,
        },
    ).scalar_one()
    return int(case_id)


def _add_officers(session: Session, case_id: int, officer_ids: list[int]) -> None:
    if len(set(officer_ids)) != len(officer_ids):
        raise InvalidInput("officer_ids lists an officer twice")
    found = session.execute(text("SELECT count(*) FROM officer WHERE id = ANY(:o)"), {"o": officer_ids}).scalar_one()
    if found != len(officer_ids):
        raise NotFound("an officer in officer_ids does not exist")
    session.execute(
        text("INSERT INTO case_officer (case_id, officer_id) SELECT :c, unnest(CAST(:o AS int[]))"),
        {"c": case_id, "o": officer_ids},
    )
    day = session.execute(text("SELECT filed_on FROM enf_case WHERE id = :c"), {"c": case_id}).scalar_one()
    _gates(session, "SELECT lawgrid_crew_gates(:c, :d)", {"c": case_id, "d": day})


def _insert_decision(
    session: Session,
    scope: Scope,
    case_id: int,
    unit_id: int,
    kind: str,
    penalty: dict[str, Any] | None,
    today: dt.date,
    doc_type: str,
    *,
    statements: str | None = None,
    education: str | None = None,
    number: str | None = None,
) -> str:
    if number:
        number = doc_numbers.use_issued(session, scope, number, doc_type)
    else:
        number = _number(session, unit_id, doc_type, today.year, scope.username)
    version = session.execute(text("SELECT facts_version FROM enf_case WHERE id = :c"), {"c": case_id}).scalar_one()
    with db.refusals(session, RULES):
        session.execute(
            text("""INSERT INTO case_decision (case_id, kind, decision_no, decided_on, signed_by, penalty,
                        statements_adopted, education, facts_version)
                    VALUES (:c, :k, :no, :d, :by, CAST(:p AS jsonb), :s, :e, :v)"""),
            {
                "c": case_id,
                "k": kind,
                "no": number,
                "d": today,
                "by": scope.username,
                "p": json.dumps(penalty) if penalty else None,
                "s": statements,
                "e": education,
                "v": version,
            },
        )
    return number


def _number(session: Session, unit_id: int, doc_type: str, year: int, by: str = "system") -> str:
    """`prefix〔year〕n号` from the unit's number blocks (geo.doc_numbers)."""
    return doc_numbers.take(session, unit_id, doc_type, year, by)
