"""Alarms' use cases, for the REST API and the command map's alarm panel: acknowledge or resolve
an alarm of a device in the caller's scope, audited and pushed to whoever sees the device."""

from __future__ import annotations

from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.infra import audit
from geo.infra.errors import InvalidInput
from geo.telemetry import fleet
from services.context import Context

MAX_COMMENT = 1000


def act(ctx: Context, scope: Scope | None, alarm_id: int, action: str, comment: Any) -> dict[str, Any]:
    """Raises Forbidden, InvalidInput, NotFound (outside the scope) or Conflict (already done)."""
    who = policy.authorize(scope, "alarm.act")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment must be text of at most {MAX_COMMENT} characters")
    if action == "resolve" and not comment.strip():
        raise InvalidInput("say how the alarm was resolved (comment)")
    with ctx.session() as session:
        alarm = fleet.transition_alarm(session, who, alarm_id, action, comment)
        audit.record(
            session,
            who.username,
            f"alarm_{action}",
            subject=f"alarm:{alarm_id}",
            detail={"comment": comment},
            source=ctx.source,
        )
    ctx.notifier.alarm_changed(alarm)
    return alarm
