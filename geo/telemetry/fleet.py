"""Reads and actions on officers, devices and alarms, always within the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import accounts
from geo.access.accounts import Scope
from geo.infra import db, errors
from geo.places import queries

NotFound = errors.NotFound
Conflict = errors.Conflict


def devices(session: Session, scope: Scope) -> list[dict[str, Any]]:
    where, params = scope.people_filter("o.id", "o.unit_id")
    rows = session.execute(
        text(
            f"""
        SELECT d.id, d.kind, d.protocol, d.identifier, d.officer_id, o.name AS officer, o.unit_id,
               s.state, s.fix_time, ST_Y(s.geom) AS lat, ST_X(s.geom) AS lon, s.speed_kmh,
               s.recording, s.battery, s.alarms
        FROM device d JOIN officer o ON o.id = d.officer_id
        LEFT JOIN device_state s ON s.device_id = d.id
        WHERE {where} ORDER BY d.id"""
        ),
        params,
    ).mappings()
    return [db.jsonable(r) for r in rows]


def device_names(session: Session, scope: Scope) -> dict[str, list[Any]]:
    """{device id: [officer, unit, kind, identifier]}, compact, for the map's finder and labels."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    rows = session.execute(
        text(
            f"""SELECT d.id, o.name, u.name, d.kind, d.identifier FROM device d JOIN officer o ON o.id = d.officer_id
            JOIN enforcement_unit u ON u.id = o.unit_id WHERE {where} ORDER BY d.id"""
        ),
        params,
    ).all()
    return {str(r[0]): [r[1], r[2], r[3], r[4]] for r in rows}


ON_TASK = accounts.ON_TASK


def devices_on_task(session: Session, scope: Scope) -> list[int]:
    """Visible devices whose officer is in the crew of an inspection under way."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    return list(
        session.execute(
            text(
                f"""SELECT DISTINCT d.id FROM inspection i JOIN inspection_officer io ON io.inspection_id = i.id
            JOIN officer o ON o.id = io.officer_id JOIN device d ON d.officer_id = o.id
            WHERE i.status = ANY(:on_task) AND {where} ORDER BY d.id"""
            ),
            {"on_task": list(ON_TASK), **params},
        ).scalars()
    )


def device_visible(session: Session, scope: Scope, device_id: int) -> bool:
    """A device in the caller's scope; for a personal role, his own device only (its track
    history says where he was, his crew-mates' do not concern him)."""
    if scope.personal:
        where, params = "o.id = CAST(:scope_me AS int)", {"scope_me": scope.officer_id}
    else:
        where, params = scope.unit_filter("o.unit_id")
    return (
        session.execute(
            text(f"SELECT 1 FROM device d LEFT JOIN officer o ON o.id = d.officer_id WHERE d.id = :d AND {where}"),
            {"d": device_id, **params},
        ).first()
        is not None
    )


def crew_audience(session: Session) -> dict[int, frozenset[int]]:
    """device id -> the officers who see it live besides its unit: the crew of every task its
    officer is on (he and his crew-mates, while on the task together)."""
    rows = session.execute(
        text(
            """SELECT d.id, array_agg(DISTINCT mate.officer_id) FROM device d
               JOIN inspection_officer me ON me.officer_id = d.officer_id
               JOIN inspection i ON i.id = me.inspection_id AND i.status = ANY(:on_task)
               JOIN inspection_officer mate ON mate.inspection_id = i.id GROUP BY d.id"""
        ),
        {"on_task": list(ON_TASK)},
    ).all()
    return {int(device): frozenset(officers) for device, officers in rows}


def officers_live(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Every visible officer with the freshest position of his devices."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    rows = session.execute(
        text(
            f"""
        SELECT o.id, o.name, o.cert_no, o.unit_id, u.name AS unit, o.duty_state,
               o.cert_valid_to >= current_date AS certified,
               latest.state, latest.fix_time, ST_Y(latest.geom) AS lat, ST_X(latest.geom) AS lon,
               cam.recording
        FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
        LEFT JOIN LATERAL (
            SELECT s.* FROM device d JOIN device_state s ON s.device_id = d.id
            WHERE d.officer_id = o.id ORDER BY s.fix_time DESC LIMIT 1) latest ON true
        LEFT JOIN LATERAL (
            SELECT s.recording FROM device d JOIN device_state s ON s.device_id = d.id
            WHERE d.officer_id = o.id AND d.kind = 'body_camera' LIMIT 1) cam ON true
        WHERE {where} ORDER BY o.id"""
        ),
        params,
    ).mappings()
    return [db.jsonable(r) for r in rows]


def device_units(session: Session) -> dict[int, int]:
    """device id -> unit id of the bound officer, for routing live pushes by scope."""
    return dict(
        session.execute(text("SELECT d.id, o.unit_id FROM device d JOIN officer o ON o.id = d.officer_id")).all()
    )


def alarms(session: Session, scope: Scope, status: str | None = "open", limit: int = 200) -> list[dict[str, Any]]:
    where, params = scope.people_filter("o.id", "o.unit_id")
    rows = session.execute(
        text(
            f"""
        SELECT a.id, a.kind, a.status, a.at, a.device_id, d.kind AS device_kind, a.officer_id,
               o.name AS officer, o.unit_id, ST_Y(a.geom) AS lat, ST_X(a.geom) AS lon,
               a.acked_by, a.acked_at, a.ack_comment, a.resolved_by, a.resolved_at, a.resolve_comment
        FROM alarm a JOIN device d ON d.id = a.device_id LEFT JOIN officer o ON o.id = a.officer_id
        WHERE {where} AND (CAST(:status AS text) IS NULL OR a.status = :status)
        ORDER BY a.at DESC, a.id DESC LIMIT :limit"""
        ),
        {"status": status, "limit": limit, **params},
    ).mappings()
    return [db.jsonable(r) for r in rows]


# Most severe first: an officer in danger, then a camera that cannot record evidence, then a
# device the centre cannot see, then conduct and housekeeping.
ALARM_SEVERITY = ("sos", "power_loss", "recording_stopped", "storage_full", "offline", "overspeed", "low_battery")


def live_alarms(session: Session, scope: Scope, limit: int = 100) -> dict[str, Any]:
    """Alarms not yet resolved, as the operator's panel shows them: one row per device and
    kind (repeats counted, first and last report), most severe first, open before
    acknowledged, oldest first within each, with the officer, unit, device kind and township.
    Every SOS is listed however many others there are; the rest up to `limit`. `counts` has
    every kind's total."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    select = f"""
        SELECT a.id, a.kind, a.status, a.at, coalesce(a.last_at, a.at) AS last_at, a.repeats,
               a.device_id, d.kind AS device_kind, d.identifier, a.officer_id, o.name AS officer,
               u.name AS unit, t.name AS place, ST_Y(a.geom) AS lat, ST_X(a.geom) AS lon,
               a.acked_by, a.acked_at, a.ack_comment
        FROM alarm a JOIN device d ON d.id = a.device_id
        LEFT JOIN officer o ON o.id = a.officer_id
        LEFT JOIN enforcement_unit u ON u.id = o.unit_id
        LEFT JOIN LATERAL (SELECT name FROM township t WHERE ST_Intersects(t.geom, a.geom) LIMIT 1) t ON true
        WHERE a.status <> 'resolved' AND {where}"""
    order = "ORDER BY array_position(CAST(:severity AS text[]), a.kind), a.status = 'acknowledged', a.at, a.id"
    sos = session.execute(text(f"{select} AND a.kind = 'sos' {order}"), {"severity": list(ALARM_SEVERITY), **params})
    rest = session.execute(
        text(f"{select} AND a.kind <> 'sos' {order} LIMIT :limit"),
        {"severity": list(ALARM_SEVERITY), "limit": limit, **params},
    )
    rows = [db.jsonable(r) for r in sos.mappings()] + [db.jsonable(r) for r in rest.mappings()]
    counts = session.execute(
        text(
            f"""SELECT a.kind, count(*) FILTER (WHERE a.status = 'open'), count(*) FROM alarm a
            LEFT JOIN officer o ON o.id = a.officer_id WHERE a.status <> 'resolved' AND {where} GROUP BY a.kind"""
        ),
        params,
    ).all()
    by_kind = {k: {"open": n_open, "live": n} for k, n_open, n in counts}
    ordered = {k: by_kind[k] for k in ALARM_SEVERITY if k in by_kind}
    return {"rows": rows, "counts": ordered, "total": sum(c["live"] for c in ordered.values())}


def transition_alarm(session: Session, scope: Scope, alarm_id: int, action: str, comment: str) -> dict[str, Any]:
    """Acknowledge (open -> acknowledged) or resolve (open/acknowledged -> resolved)."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    current = session.execute(
        text(
            f"""SELECT a.status FROM alarm a LEFT JOIN officer o ON o.id = a.officer_id
            WHERE a.id = :id AND {where} FOR UPDATE OF a"""
        ),
        {"id": alarm_id, **params},
    ).scalar()
    if current is None:
        raise NotFound(f"no alarm {alarm_id} in your scope", zh="您的范围内没有这条告警")
    allowed = {"ack": ("open",), "resolve": ("open", "acknowledged")}[action]
    if current not in allowed:
        done = "确认" if current == "acknowledged" else "解除"
        raise Conflict(
            f"alarm {alarm_id} is {current}; cannot {action} it",
            zh=f"该告警已{done}，不能再{'确认' if action == 'ack' else '解除'}",
        )
    if action == "ack":
        sql = (
            "UPDATE alarm SET status = 'acknowledged', acked_by = :u, acked_at = now(), ack_comment = :c WHERE id = :id"
        )
    else:
        sql = (
            "UPDATE alarm SET status = 'resolved', resolved_by = :u, resolved_at = now(), "
            "resolve_comment = :c WHERE id = :id"
        )
    session.execute(text(sql), {"u": scope.username, "c": comment, "id": alarm_id})
    return alarms_by_id(session, alarm_id)


def alarms_by_id(session: Session, alarm_id: int) -> dict[str, Any]:
    row = (
        session.execute(
            text(
                "SELECT id, kind, status, at, device_id, officer_id, ST_Y(geom) AS lat, ST_X(geom) AS lon, "
                "acked_by, ack_comment, resolved_by, resolve_comment FROM alarm WHERE id = :id"
            ),
            {"id": alarm_id},
        )
        .mappings()
        .one()
    )
    return db.jsonable(row)


def alarm_heat(session: Session, scope: Scope, since: Any, cell_deg: float = 0.01) -> dict[str, Any]:
    """Alarms since a time, counted on a grid of cell_deg squares, as GeoJSON polygons."""
    where, params = scope.people_filter("o.id", "o.unit_id")
    rows = session.execute(
        text(
            f"""
        SELECT floor(ST_X(a.geom) / :c)::int AS cx, floor(ST_Y(a.geom) / :c)::int AS cy, count(*) AS n,
               count(*) FILTER (WHERE a.kind = 'sos') AS sos
        FROM alarm a LEFT JOIN officer o ON o.id = a.officer_id
        WHERE a.at >= :since AND a.geom IS NOT NULL AND {where}
        GROUP BY 1, 2"""
        ),
        {"c": cell_deg, "since": since, **params},
    ).all()
    return queries.grid_geojson(rows, cell_deg, "{n} ({k} SOS)")
