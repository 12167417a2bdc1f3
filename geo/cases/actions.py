"""What a case step is: its context, the `Action` record and the `@action` decorator that
registers it, and the status groups the steps use. The steps themselves live in geo/cases/steps/;
`geo.cases.machine` lists them and runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.accounts import Scope

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
# Every status a case row may hold, spelled once (the CHECK on enf_case.status is tested equal to it).
STATUSES = (
    *PRE_DECISION[:2],
    "suspended",
    "terminated",
    *PRE_DECISION[2:7],
    "hearing_requested",
    "hearing_held",
    "hearing_reported",
    "decided",
    "served",
    "executing",
    "performed",
    "closed",
    "onsite_decided",
    "onsite_filed",
    # kept for the payment, enforcement and appeal steps to come
    "paid",
    "overdue",
    "urged",
    "court_applied",
    "altered",
)


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
