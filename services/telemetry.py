"""Telemetry's use cases: a device's track over a window, for whoever may see the device (its
viewing audited, for a track says where a person was)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.infra import audit
from geo.telemetry import positions
from services.context import Context


def track(
    ctx: Context,
    scope: Scope | None,
    device_id: int,
    start: dt.datetime,
    end: dt.datetime,
    simplify: float = 0.0,
    *,
    via: str | None = None,
) -> dict[str, Any]:
    """The fixes of a device in the caller's scope over [start, end) as GeoJSON; NotFound outside
    it. via names the screen it was viewed on, for the audit."""
    who = policy.authorize(scope, "view")
    with ctx.session() as session:
        policy.device_in_scope(session, who, device_id)
        doc = positions.track(session, device_id, start, end, simplify)
        audit.record(
            session,
            who.username,
            "track_view",
            subject=f"device:{device_id}",
            detail={"start": start.isoformat(), "end": end.isoformat(), **({"via": via} if via else {})},
            source=ctx.source,
        )
    return doc
