"""Hearings (听证): the request, the schedule with its notice, the hearing held by its own host,
and the host's report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import workdays
from geo.cases.actions import Ctx, Step, action
from geo.cases.forms import Body
from geo.cases.penalties import _past
from geo.cases.rules import (
    HEARING_HOST_WD,
    HEARING_NOTICE_WD,
    HEARING_REPORT_WD,
    RULES,
)
from geo.cases.steps.common import _end_pause, _start_pause
from geo.cases.store import _update
from geo.cases.timeline import BackEntry
from geo.infra.errors import Refused


class HearingRequest(Body):
    requested_on: dt.date | None = None
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")


NOTICE_SQL = (
    "SELECT hearing_right, hearing_waived, response_due FROM case_notice WHERE case_id = :c ORDER BY id DESC LIMIT 1"
)


def _hearing_rules(notice: Any, on: dt.date) -> list[str]:
    """Within the window, on a notice that offered a hearing he has not given up in writing,
    whatever else he did in the window (a statement is no waiver: 程序规定 第五十七条)."""
    rules = [] if notice.hearing_right else ["hearing_right"]
    if notice.hearing_waived:
        rules.append("hearing_waived")
    return rules + (["hearing_request_window"] if on > notice.response_due else [])


def _hearing_check(ctx: Ctx) -> list[str]:
    notice = ctx.one(NOTICE_SQL)
    if notice is None:
        return ["notice_served"]
    return _hearing_rules(notice, ctx.today)


@action(
    "request_hearing",
    ("当事人申请听证", "The party asks for a hearing"),
    ("notified", "statements"),
    "case.handle",
    HearingRequest,
    check=_hearing_check,
    handler=True,
)
def _request_hearing(ctx: Ctx, body: HearingRequest) -> Step:
    on = _past(body.requested_on, ctx.today)
    broken = _hearing_rules(ctx.one(NOTICE_SQL), on)
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
    if body.hearing_on < workdays.party_wd_after(ctx.session, body.notice_served_on, HEARING_NOTICE_WD):
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
