"""What several steps share: the plain and ground bodies, service, review rounds, pauses and
the decision's due date."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases import timeline, workdays
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
from geo.infra import db
from geo.infra.errors import Refused


class Plain(Body):
    note: str | None = Note


class Ground(Body):
    ground: str = Field(min_length=1, max_length=2000)
    kind: Literal["suspension", "testing", "identification", "public_notice", "refund_order"] = "suspension"


class Serve(Body):
    """Service of the notice or the decision: the sealed document, proved by a sealed 送达回证
    (its date and method are the service's), by the party's sealed 送达地址确认书 for electronic
    service, or by the announcement's date for 公告送达; an act done on paper is a 补录."""

    receipt_id: int | None = Field(
        None, ge=1, description="the sealed 送达回证 (direct, left, post, entrusted, forwarded)"
    )
    method: Literal["direct", "left", "electronic", "post", "entrusted", "forwarded", "public_notice"] | None = Field(
        None, description="electronic or public_notice; otherwise the receipt's own method"
    )
    confirmation_id: int | None = Field(None, ge=1, description="electronic service: the sealed 送达地址确认书")
    served_on: dt.date | None = Field(None, description="electronic service: the day sent; a 补录: the paper's day")
    announced_on: dt.date | None = Field(None, description="公告送达: the day announced (deemed served 30 days later)")
    back_entry: BackEntry | None = Field(None, description="补录: an act done on paper, entered after its day")
    receiver: str | None = Field(None, max_length=200, description="a 补录: who received the paper document")
    witness: str | None = Field(None, max_length=200)


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


# The methods of 程序规定 第八十二条 as a 送达回证 writes them.
RECEIPT_METHODS = {
    "直接送达": "direct",
    "留置送达": "left",
    "邮寄送达": "post",
    "委托送达": "entrusted",
    "转交送达": "forwarded",
}
PUBLIC_NOTICE_DAYS = 30  # 程序规定 第八十二条; 民事诉讼法 第九十五条 (2023): not the 60 days of old tables


def _sealed(ctx: Ctx, doc_id: int | None, template: str) -> Any:
    if doc_id is None:
        return None
    return ctx.one(
        "SELECT id, doc_no, body FROM document WHERE id = :d AND case_id = :c AND template_code = :t "
        "AND status = 'sealed'",
        d=doc_id,
        t=template,
    )


def _served_document(ctx: Ctx, document: str) -> Any:
    """The sealed document served: the newest sealed 告知书, or the 决定书 bearing the decision's number."""
    if document == "decision":
        return ctx.one(
            "SELECT d.id, d.doc_no FROM document d JOIN case_decision k ON k.case_id = d.case_id "
            "AND k.decision_no = d.doc_no WHERE d.case_id = :c AND d.template_code = 'penalty_decision' "
            "AND d.status = 'sealed'"
        )
    return ctx.one(
        "SELECT id, doc_no FROM document WHERE case_id = :c AND template_code = 'penalty_notice' "
        "AND status = 'sealed' ORDER BY id DESC LIMIT 1"
    )


def _serve(ctx: Ctx, body: Serve, document: str) -> tuple[dt.date, str, dict[str, Any]]:
    """Record the service; returns its date and method, taken from the documents that prove it,
    and the documents for the step's record (the case file links the step to them)."""
    served = _served_document(ctx, document)
    paper = body.back_entry.paper_no if body.back_entry else None
    if served is None and paper is None:
        raise Refused([{"rule": "service_document"}], RULES)
    receipt = confirmation = None
    receiver, witness, announced = body.receiver, body.witness, None
    if body.receipt_id is not None:
        receipt = _sealed(ctx, body.receipt_id, "service_receipt")
        fields = receipt.body if receipt else {}
        if receipt is None or (served is not None and served.doc_no not in str(fields.get("served_document") or "")):
            raise Refused([{"rule": "service_receipt"}], RULES)
        method = RECEIPT_METHODS.get(str(fields.get("method")), "")
        if not method or (body.method and body.method != method):
            raise Refused([{"rule": "service_method"}], RULES)
        on = dt.date.fromisoformat(str(fields.get("served_at") or "")[:10])
        receiver, witness = fields.get("receiver"), fields.get("left_reason")
    elif body.method == "electronic":
        confirmation = _sealed(ctx, body.confirmation_id, "address_confirmation")
        if confirmation is None or confirmation.body.get("electronic_accepted") not in (True, "true"):
            raise Refused([{"rule": "service_method"}], RULES)
        on, method = _past(body.served_on, ctx.today), "electronic"
    elif body.method == "public_notice":
        if body.announced_on is None:
            raise Refused([{"rule": "public_notice_period"}], RULES)
        announced, method = body.announced_on, "public_notice"
        on = announced + dt.timedelta(days=PUBLIC_NOTICE_DAYS)
        if on > ctx.today:
            raise Refused([{"rule": "public_notice_period", "deemed_on": on.isoformat()}], RULES, detail=str(on))
    elif paper is not None and body.served_on is not None:
        on, method = body.served_on, body.method or "direct"
    else:
        raise Refused([{"rule": "service_receipt"}], RULES)
    timeline.in_order(ctx.session, ctx.id, "serve" if document == "decision" else "notify", on, ctx.today)
    with db.refusals(ctx.session, RULES):
        ctx.session.execute(
            text("""INSERT INTO case_service (case_id, document, method, served_on, receiver, witness,
                        address_confirmed, document_id, receipt_id, confirmation_id, announced_on, paper_no)
                    VALUES (:c, :doc, :m, :d, :r, :w, :ac, :di, :ri, :ci, :an, :paper)"""),
            {
                "c": ctx.id,
                "doc": document,
                "m": method,
                "d": on,
                "r": receiver,
                "w": witness,
                "ac": confirmation is not None,
                "di": served.id if served else None,
                "ri": receipt.id if receipt else None,
                "ci": confirmation.id if confirmation else None,
                "an": announced,
                "paper": paper,
            },
        )
    papers = {
        "document_id": served.id if served else None,
        "doc_no": served.doc_no if served else paper,
        "receipt_id": receipt.id if receipt else None,
        "confirmation_id": confirmation.id if confirmation else None,
    }
    return on, method, {k: v for k, v in papers.items() if v is not None}
