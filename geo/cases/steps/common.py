"""What several steps share: the plain and ground bodies, service, review rounds, pauses and
the decision's due date."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import workdays
from geo.cases.actions import Ctx
from geo.cases.forms import Body, Note
from geo.cases.penalties import _past
from geo.cases.rules import (
    DECISION_DAYS,
    REVIEW_WD,
    RULES,
)
from geo.cases.store import _update
from geo.cases.timeline import BackEntry
from geo.infra.errors import Refused


class Plain(Body):
    note: str | None = Note


class Ground(Body):
    ground: str = Field(min_length=1, max_length=2000)
    kind: Literal["suspension", "testing", "identification", "public_notice", "refund_order"] = "suspension"


class Serve(Body):
    served_on: dt.date | None = None
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")
    method: Literal["direct", "left", "electronic", "post", "entrusted", "forwarded", "public_notice"] = "direct"
    receiver: str | None = Field(None, max_length=200)
    witness: str | None = Field(None, max_length=200)
    address_confirmed: bool = False


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
