"""Acting on alarms, shared by the REST API and the command map's alarm panel: one place
checks the request, moves the alarm, writes the audit entry and pushes the change."""

from __future__ import annotations

from typing import Any

from flask import current_app

from dashboard.context import client_address
from dashboard.context import runtime as _runtime
from geo.access import policy
from geo.access.accounts import Scope
from geo.infra import audit
from geo.infra.errors import InvalidInput
from geo.telemetry import fleet


def act_on_alarm(scope: Scope | None, alarm_id: int, action: str, comment: Any) -> dict[str, Any]:
    """Raises Forbidden, InvalidInput, NotFound (outside the scope) or Conflict (already done)."""
    who = policy.authorize(scope, "alarm.act")
    if not isinstance(comment, str) or len(comment) > 1000:
        raise InvalidInput("comment must be text of at most 1000 characters")
    if action == "resolve" and not comment.strip():
        raise InvalidInput("say how the alarm was resolved (comment)")
    with _runtime().session() as session:
        alarm = fleet.transition_alarm(session, who, alarm_id, action, comment)
        audit.record(
            session,
            who.username,
            f"alarm_{action}",
            subject=f"alarm:{alarm_id}",
            detail={"comment": comment},
            source=client_address(),
        )
    push = current_app.extensions.get("lawgrid_live")
    if push:
        push.emit_scoped("alarm", alarm, alarm["device_id"])
    return alarm
