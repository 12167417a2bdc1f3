"""Acting on alarms, shared by the REST API and the command map's alarm panel: one place
checks the request, moves the alarm, writes the audit entry and pushes the change."""

from __future__ import annotations

from flask import current_app

from dashboard.auth import client_address
from geo import audit, fleet
from geo.accounts import Scope

ACTING_ROLES = ("operator", "admin", "dispatcher", "supervisor")


class AlarmRequestError(ValueError):
    pass


def act_on_alarm(scope: Scope, alarm_id: int, action: str, comment) -> dict:
    """Raises AlarmRequestError (bad request), fleet.NotFound or fleet.Conflict."""
    if scope.role not in ACTING_ROLES:
        raise AlarmRequestError("your role may not acknowledge or resolve alarms")
    if not isinstance(comment, str) or len(comment) > 1000:
        raise AlarmRequestError("comment must be text of at most 1000 characters")
    if action == "resolve" and not comment.strip():
        raise AlarmRequestError("say how the alarm was resolved (comment)")
    with current_app.extensions["lawgrid"].session() as session:
        alarm = fleet.transition_alarm(session, scope, alarm_id, action, comment)
        audit.record(
            session,
            scope.username,
            f"alarm_{action}",
            subject=f"alarm:{alarm_id}",
            detail={"comment": comment},
            source=client_address(),
        )
    push = current_app.extensions.get("lawgrid_live")
    if push:
        push.emit_scoped("alarm", alarm, alarm["device_id"])
    return alarm
