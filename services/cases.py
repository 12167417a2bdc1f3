"""Cases' use cases, for every door (REST, the case pages, the terminal, the CLI, the seed): the
caller's role for the step is checked here, once; the core then holds the procedure's rules
(handlers only, the gates, the clocks) and the notifier pushes the warnings a step raised."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases import clocks, filing, forms, machine
from geo.infra.errors import InvalidInput
from services.context import Context


def permission(name: str) -> str:
    step = machine.ACTIONS.get(name)
    if step is None:
        raise InvalidInput(f"action must be one of {', '.join(machine.ACTIONS)}")
    return step.permission


def perform(
    ctx: Context,
    scope: Scope | None,
    case_id: int,
    name: str,
    data: dict[str, Any] | BaseModel,
    *,
    version: int | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Take one step of a case as the caller."""
    who = policy.authorize(scope, permission(name))
    with ctx.session() as session:
        case = machine.perform(session, who, case_id, name, data, version=version, today=today)
        raised = clocks.take_raised(session)
    ctx.notifier.warnings_raised(raised)
    return case


def file_case(
    ctx: Context, scope: Scope | None, body: forms.NewCase, *, today: dt.date | None = None
) -> dict[str, Any]:
    """立案 by the organ head, from an open case source."""
    who = policy.authorize(scope, "case.approve")
    with ctx.session() as session:
        case = filing.file_case(session, who, body, today=today)
        raised = clocks.take_raised(session)
    ctx.notifier.warnings_raised(raised)
    return case


def open_onsite(
    ctx: Context, scope: Scope | None, body: forms.OnsiteCase, *, today: dt.date | None = None
) -> dict[str, Any]:
    """当场处罚 by two officers, one of them the caller."""
    who = policy.authorize(scope, "case.handle")
    with ctx.session() as session:
        case = filing.open_onsite(session, who, body, today=today)
        raised = clocks.take_raised(session)
    ctx.notifier.warnings_raised(raised)
    return case
