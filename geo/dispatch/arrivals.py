"""Arrival on site detected from the crew's own telemetry."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch.model import ARRIVAL_RADIUS_M, _event


def crew_near_target(session: Session, task_id: int, radius_m: float = ARRIVAL_RADIUS_M) -> bool:
    """Whether a crew officer's device, online, last fixed within radius_m of the target."""
    return bool(
        session.execute(
            text(
                """SELECT EXISTS (SELECT 1 FROM inspection i JOIN target t ON t.id = i.target_id
                   JOIN inspection_officer io ON io.inspection_id = i.id
                   JOIN device d ON d.officer_id = io.officer_id JOIN device_state s ON s.device_id = d.id
                   WHERE i.id = :i AND s.state = 'online' AND ST_DWithin(s.geom::geography, t.geom::geography, :r))"""
            ),
            {"i": task_id, "r": radius_m},
        ).scalar()
    )


def detect_arrivals(
    session: Session, radius_m: float = ARRIVAL_RADIUS_M, device_ids: list[int] | None = None
) -> list[int]:
    """Crews whose live position is within radius_m of their target are on site. With
    device_ids, only those devices' positions are judged (an ingest process judges the
    devices that reported to it since its last sweep)."""
    rows = (
        session.execute(
            text(
                """
        UPDATE inspection i SET status = 'on_site', on_site_at = clock_timestamp()
        FROM target t
        WHERE t.id = i.target_id AND i.status IN ('accepted', 'en_route')
          AND EXISTS (SELECT 1 FROM inspection_officer io JOIN device d ON d.officer_id = io.officer_id
                      JOIN device_state s ON s.device_id = d.id
                      WHERE io.inspection_id = i.id AND s.state = 'online'
                        AND (CAST(:devices AS int[]) IS NULL OR d.id = ANY(CAST(:devices AS int[])))
                        AND ST_DWithin(s.geom::geography, t.geom::geography, :r))
        RETURNING i.id
        """
            ),
            {"r": radius_m, "devices": device_ids},
        )
        .scalars()
        .all()
    )
    for task_id in rows:
        prior = session.execute(
            text("SELECT to_status FROM inspection_event WHERE inspection_id = :i ORDER BY at DESC, id DESC LIMIT 1"),
            {"i": task_id},
        ).scalar()
        _event(session, task_id, "system", prior, "on_site", {"detected": "telemetry", "radius_m": radius_m})
    return list(rows)
