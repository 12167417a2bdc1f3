"""Cases' use cases, for every door (REST, the case pages, the terminal, the CLI, the seed): the
caller's role for the step is checked here, once; the core then holds the procedure's rules
(handlers only, the gates, the clocks) and the notifier pushes the warnings a step raised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases import clocks, filing, forms, machine, sources, workdays
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
    return _telling_warnings(ctx, machine.perform, who, case_id, name, data, version=version, today=today)


def file_case(
    ctx: Context, scope: Scope | None, body: forms.NewCase, *, today: dt.date | None = None
) -> dict[str, Any]:
    """立案 by the organ head, from an open case source."""
    who = policy.authorize(scope, "case.approve")
    return _telling_warnings(ctx, filing.file_case, who, body, today=today)


def open_onsite(
    ctx: Context, scope: Scope | None, body: forms.OnsiteCase, *, today: dt.date | None = None
) -> dict[str, Any]:
    """当场处罚 by two officers, one of them the caller."""
    who = policy.authorize(scope, "case.handle")
    return _telling_warnings(ctx, filing.open_onsite, who, body, today=today)


def _telling_warnings(ctx: Context, act: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run a core act in the unit of work, then tell the warnings it raised (after the commit)."""
    with ctx.session() as session:
        result = act(session, *args, **kwargs)
        raised = clocks.take_raised(session)
    ctx.notifier.warnings_raised(raised)
    return result


def register_source(ctx: Context, scope: Scope | None, body: sources.NewSource) -> dict[str, Any]:
    """A case source (complaint, report, transfer, assignment, monitoring) with its clocks."""
    who = policy.authorize(scope, "case.source")
    with ctx.session() as session:
        return sources.register(session, who, body)


def source_action(ctx: Context, scope: Scope | None, source_id: int, body: sources.SourceAction) -> dict[str, Any]:
    """A step on a source (verify, accept, extend, not_file, transfer, tell_reporter), each with
    the permission it needs."""
    who = policy.authorize(scope, sources.SOURCE_PERMISSIONS[body.action])
    with ctx.session() as session:
        return sources.act(session, who, source_id, body)


def sweep_clocks(ctx: Context) -> list[dict[str, Any]]:
    """The warnings sweep (every few minutes in each web process): provisional days kept ahead,
    every running clock judged, what was raised or changed told."""
    with ctx.session() as session:
        workdays.ensure_provisional(session)
        raised = clocks.sweep(session)
    ctx.notifier.warnings_raised(raised)
    return raised
