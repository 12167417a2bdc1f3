"""The notice (告知) and the party's answer within its window: waiver and statements (陈述申辩)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import workdays
from geo.cases.actions import Ctx, Step, action
from geo.cases.forms import Body
from geo.cases.items import store
from geo.cases.penalties import _past
from geo.cases.rules import (
    RESPONSE_WD,
    hearing_basis,
    hearing_basis_text,
)
from geo.cases.steps.common import Serve, _serve
from geo.cases.store import _update
from geo.cases.timeline import BackEntry
from geo.infra.errors import NotFound


@action("notify", ("送达告知书", "Serve the notice"), ("approved",), "case.handle", Serve, handler=True)
def _notify(ctx: Ctx, body: Serve) -> Step:
    on, method, papers = _serve(ctx, body, "notice")
    proposed = ctx.case["proposed"]
    basis = hearing_basis(proposed, ctx.case["party_kind"], _item_hearing(ctx))
    right = bool(basis)
    due = workdays.party_wd_after(ctx.session, on, RESPONSE_WD)  # the party's window: never cut short
    ctx.session.execute(
        text("""INSERT INTO case_notice (case_id, proposed, hearing_right, hearing_basis, served_on, response_due,
                    facts_version, created_by) VALUES (:c, CAST(:p AS jsonb), :h, :hb, :s, :d, :v, :a)"""),
        {
            "c": ctx.id,
            "p": json.dumps(proposed),
            "h": right,
            "hb": basis,
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
        "hearing_basis": hearing_basis_text(basis, ctx.case["party_kind"]),
        "response_due": due.isoformat(),
        "proposed": proposed,
        "method": method,
        **papers,
    }


class Waiver(Body):
    waived_on: dt.date | None = None
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")
    hearing_waived: bool = Field(
        False, description="the written waiver gives up the hearing too (where the notice offered one)"
    )
    note: str = Field(min_length=1, max_length=2000, description="the party's written waiver")


@action(
    "waive",
    ("当事人书面放弃陈述申辩（及听证）", "The party waives in writing"),
    ("notified", "statements"),
    "case.handle",
    Waiver,
    handler=True,
)
def _waive(ctx: Ctx, body: Waiver) -> Step:
    """A written waiver opens the decision before the window ends only if it gives up everything
    the notice offered: statements and, where offered, the hearing (程序规定 第五十七条)."""
    on = _past(body.waived_on, ctx.today)
    ctx.session.execute(
        text(
            "UPDATE case_notice SET waived_on = :d, hearing_waived = hearing_waived OR :h "
            "WHERE id = (SELECT max(id) FROM case_notice WHERE case_id = :c)"
        ),
        {"d": on, "h": body.hearing_waived, "c": ctx.id},
    )
    return None, {"waived_on": on.isoformat(), "hearing_waived": body.hearing_waived, "note": body.note}


def _item_hearing(ctx: Ctx) -> dict[str, Any] | None:
    """The hearing data of the case's codified item, if it has one."""
    if not ctx.case.get("item_code"):
        return None
    try:
        item = store.get(ctx.session, ctx.case["item_code"], ctx.case["item_version"])
    except NotFound:
        return None
    return item.hearing.model_dump(mode="json") if item.hearing else None


class Statement(Body):
    received_on: dt.date | None = None
    back_entry: BackEntry | None = Field(None, description="补录: an act entered after its day")
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
