"""Cases (办案): filing (立案), the ordinary procedure as a state machine, and the simple
procedure (当场处罚). Every step is an `Action`: the statuses it leaves, the permission it
needs, its typed fields, what it checks, and what it does. `perform` is the one path for the
API, the pages, the CLI and batch work: it locks the case, checks version, status, role,
scope and the action's rules, runs it, writes the append-only history and the audit trail,
and refreshes the case's clocks. The legal gates the database can hold (crew, reviewer,
hearing host, decision) are its functions and triggers (migration 0015); `available` asks the
same functions, so the case file explains every step the user may not take.

Specification: ../shared/domain/CASE-PROCEDURE.md §4.1 (T1–T24, T29–T31).

The steps live in geo/cases/steps/, one module per group, each registered with `@action`;
the list of step modules is at the end of this module."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases import clocks, timeline
from geo.cases.actions import ACTIONS as ACTIONS  # filled by the steps listed below
from geo.cases.actions import Ctx
from geo.cases.rules import (
    RULES,
)

# The steps, listed once: each module registers its actions with @action when imported.
from geo.cases.steps import decision, hearing, investigation, notice, review  # noqa: F401
from geo.cases.store import _event
from geo.infra import audit, db
from geo.infra.errors import Conflict, InvalidInput, LawGridError, NotFound, Refused
from geo.infra.requests import parse
from geo.infra.timezone import today as beijing_today


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
    if scope.personal:  # the cases he acts on (geo.access.accounts.Scope.case_filter)
        cond, params = scope.case_filter("e")
        mine = session.execute(text(f"SELECT 1 FROM enf_case e WHERE e.id = :i AND {cond}"), {"i": case_id, **params})
        if mine.first() is None:
            raise NotFound(f"no case {case_id} of yours", rule="case_scope")
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
    back_entry = timeline.check(session, case_id, name, body, ctx.today)
    with db.refusals(session, RULES):
        to, detail = step.run(ctx, body)
    if back_entry is not None:  # 补录: kept with the step and audited on its own
        detail = {**detail, "back_entry": back_entry}
        audit.record(
            session, scope.username, "case_back_entry", subject=f"case:{case_id}", detail={"step": name, **back_entry}
        )
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
    clocks.refresh(session, case_id)
    audit.record(
        session,
        scope.username,
        f"case_{name}",
        subject=f"case:{case_id}",
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )
    return load(session, scope, case_id)


def _is_handler(ctx: Ctx) -> bool:
    if ctx.scope.officer_id is None:
        return False
    return (
        ctx.one("SELECT 1 FROM case_officer WHERE case_id = :c AND officer_id = :o", o=ctx.scope.officer_id) is not None
    )
