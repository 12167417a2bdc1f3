"""Review (法制审核 / 案件审核) by a reviewer who handles none of the case, and the head's approval."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field
from sqlalchemy import text

from geo.cases.actions import Ctx, Step, action
from geo.cases.forms import Body
from geo.cases.rules import (
    REVIEW_CHECKS,
    RULES,
)
from geo.cases.steps.common import Plain
from geo.cases.store import _update
from geo.infra.errors import Conflict, Refused


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


def _needs_proposal(ctx: Ctx) -> list[str]:
    return [] if ctx.case["proposed"] else ["penalty_proposed"]


@action(
    "approve", ("批准告知", "Approve the notice"), ("awaiting_approval",), "case.approve", Plain, check=_needs_proposal
)
def _approve(ctx: Ctx, body: Plain) -> Step:
    if _needs_proposal(ctx):
        raise Refused([{"rule": "penalty_proposed"}], RULES)
    _update(ctx.session, ctx.id, approved_on=ctx.today)
    return "approved", {"note": body.note}
