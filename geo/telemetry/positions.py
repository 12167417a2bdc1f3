"""Telemetry storage: position history (COPY into a staging table, deduplicated on insert),
the latest state per device, alarms raised from device flags, device state sweeps, tracks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.bulk import copy_escape, pg_text_array

ALARM_KINDS = ("sos", "overspeed", "low_battery", "power_loss", "recording_stopped", "storage_full", "offline")


@dataclass
class Fix:
    """One validated position (or event with the device's last position)."""

    device_id: int
    fix_time: dt.datetime
    lat: float
    lon: float
    received_at: dt.datetime
    speed_kmh: float | None = None
    course: float | None = None
    altitude_m: float | None = None
    accuracy_m: float | None = None
    recording: bool | None = None
    battery: float | None = None
    alarms: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["fix_time"] = self.fix_time.isoformat()
        d["received_at"] = self.received_at.isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fix:
        d = dict(d)
        d["fix_time"] = dt.datetime.fromisoformat(d["fix_time"])
        d["received_at"] = dt.datetime.fromisoformat(d["received_at"])
        return cls(**d)


@dataclass
class WriteResult:
    stored: int
    duplicates: int
    latest: list[dict[str, Any]]  # per device: the newest fix written, for live push
    alarms: list[dict[str, Any]]  # alarms raised by this batch
    repeated: list[dict[str, Any]] = field(default_factory=list)  # live alarms reported again


STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS fix_stage (
    device_id integer, fix_time timestamptz, received_at timestamptz, lon double precision,
    lat double precision, speed_kmh real, course real, altitude_m real, accuracy_m real,
    recording boolean, battery real, alarms text[], attributes jsonb
) ON COMMIT DELETE ROWS
"""


LIVE_MAX_AGE_S = 24 * 3600


def _number(value: float | None) -> str:
    return r"\N" if value is None else str(value)


def _stage_rows(fixes: list[Fix]) -> str:
    """The batch in COPY text format, in one string. Times and attributes repeat across a
    batch (a fleet reporting in the same second, the same status word), so each distinct one
    is formatted once."""
    times: dict[dt.datetime, str] = {}
    attrs: dict[tuple[Any, ...], str] = {}
    lines = []
    for f in fixes:
        fix_time = times.get(f.fix_time)
        if fix_time is None:
            fix_time = times[f.fix_time] = f.fix_time.isoformat()
        received = times.get(f.received_at)
        if received is None:
            received = times[f.received_at] = f.received_at.isoformat()
        try:
            key: tuple[Any, ...] | None = tuple(f.attributes.items())
            attributes = attrs.get(key)  # type: ignore[arg-type]
        except TypeError:  # a nested value: not hashable, formatted on its own
            key = attributes = None
        if attributes is None:
            attributes = copy_escape(json.dumps(f.attributes, ensure_ascii=False))
            if key is not None:
                attrs[key] = attributes
        recording = r"\N" if f.recording is None else ("t" if f.recording else "f")
        lines.append(
            f"{f.device_id}\t{fix_time}\t{received}\t{f.lon!r}\t{f.lat!r}\t{_number(f.speed_kmh)}\t"
            f"{_number(f.course)}\t{_number(f.altitude_m)}\t{_number(f.accuracy_m)}\t{recording}\t"
            f"{_number(f.battery)}\t{pg_text_array(f.alarms)}\t{attributes}\n"
        )
    return "".join(lines)


# The batch into the position history, duplicates (in the batch or stored) dropped.
INSERT_POSITIONS_SQL = """
WITH new AS (
    INSERT INTO position (device_id, fix_time, received_at, geom, speed_kmh, course,
                          altitude_m, accuracy_m, attributes)
    SELECT DISTINCT ON (device_id, fix_time) device_id, fix_time, received_at,
           ST_SetSRID(ST_MakePoint(lon, lat), 4326), speed_kmh, course, altitude_m,
           accuracy_m,
           attributes || jsonb_strip_nulls(jsonb_build_object(
               'recording', recording, 'battery', battery,
               'alarms', CASE WHEN alarms = '{}' THEN NULL ELSE to_jsonb(alarms) END))
    FROM fix_stage ORDER BY device_id, fix_time
    ON CONFLICT DO NOTHING
    RETURNING device_id, fix_time
)
SELECT count(*) FROM new
"""

# Latest state: the newest fix of the batch per device, only if newer than what is stored.
UPSERT_STATE_SQL = """
INSERT INTO device_state AS s (device_id, fix_time, last_seen, geom, speed_kmh, course,
                               recording, battery, power_v, alarms, state)
SELECT DISTINCT ON (f.device_id) f.device_id, f.fix_time, f.received_at,
       ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326), f.speed_kmh, f.course,
       coalesce(f.recording, r.recording), coalesce(f.battery, b.battery),
       (f.attributes->>'power_v')::real, f.alarms, 'online'
FROM fix_stage f
-- the batch's newest known recording flag and battery, which the newest fix may lack
LEFT JOIN (SELECT DISTINCT ON (device_id) device_id, recording FROM fix_stage
           WHERE recording IS NOT NULL ORDER BY device_id, fix_time DESC) r USING (device_id)
LEFT JOIN (SELECT DISTINCT ON (device_id) device_id, battery FROM fix_stage
           WHERE battery IS NOT NULL ORDER BY device_id, fix_time DESC) b USING (device_id)
WHERE f.fix_time > now() - make_interval(secs => %(age)s)
  AND coalesce((f.attributes->>'valid')::boolean, true)  -- not a fix: history only
ORDER BY f.device_id, f.fix_time DESC
ON CONFLICT (device_id) DO UPDATE SET
    fix_time = EXCLUDED.fix_time, geom = EXCLUDED.geom, speed_kmh = EXCLUDED.speed_kmh,
    course = EXCLUDED.course, recording = coalesce(EXCLUDED.recording, s.recording),
    battery = coalesce(EXCLUDED.battery, s.battery), power_v = coalesce(EXCLUDED.power_v, s.power_v),
    alarms = EXCLUDED.alarms,
    last_seen = greatest(s.last_seen, EXCLUDED.last_seen), state = 'online'
WHERE EXCLUDED.fix_time >= s.fix_time
RETURNING device_id, ST_Y(geom), ST_X(geom), fix_time, speed_kmh, course, recording,
          alarms, (xmax = 0) AS first_fix
"""

# A device whose batch held only positions that are not fixes (or are old) was still heard:
# it stays online, where it last really was.
TOUCH_HEARD_SQL = """
UPDATE device_state s SET last_seen = f.received_at
FROM (SELECT device_id, max(received_at) AS received_at FROM fix_stage GROUP BY 1) f
WHERE s.device_id = f.device_id AND s.last_seen < f.received_at
"""

# Alarms: device flags, and a recording that stopped (flag true -> false in the batch or
# against the stored state is caught by the recording=false fixes carrying it); reported again
# while live, one row counted with the last report's time.
RAISE_ALARMS_SQL = """
WITH k AS (
    SELECT st.device_id, k.kind, st.fix_time, st.lat, st.lon
    FROM fix_stage st
    CROSS JOIN LATERAL unnest(st.alarms || CASE WHEN st.attributes ? 'recording_stopped'
                                                THEN ARRAY['recording_stopped'] ELSE '{}' END) AS k(kind)
    WHERE k.kind = ANY(%s) AND st.fix_time > now() - make_interval(secs => %s)
), g AS (
    SELECT device_id, kind, min(fix_time) AS at, max(fix_time) AS last_at, count(*)::int AS n,
           (array_agg(ST_MakePoint(lon, lat) ORDER BY fix_time))[1] AS geom
    FROM k GROUP BY device_id, kind
)
INSERT INTO alarm AS a (device_id, officer_id, kind, at, last_at, repeats, geom)
SELECT g.device_id, d.officer_id, g.kind, g.at, g.last_at, g.n, ST_SetSRID(g.geom, 4326)
FROM g JOIN device d ON d.id = g.device_id
ORDER BY g.device_id, g.kind
-- Reported again while it is live: one row, counted, with the last report's time.
ON CONFLICT (device_id, kind) WHERE status <> 'resolved' DO UPDATE
    SET repeats = a.repeats + EXCLUDED.repeats, last_at = EXCLUDED.last_at
    WHERE EXCLUDED.last_at > coalesce(a.last_at, a.at)
RETURNING id, device_id, officer_id, kind, at, ST_Y(geom), ST_X(geom), (xmax = 0) AS raised, status
"""


def write_fixes(conn: Any, fixes: list[Fix], live_max_age_s: int = LIVE_MAX_AGE_S) -> WriteResult:
    """Write a batch in one transaction on a psycopg 3 connection (the caller commits).

    Duplicates by (device, fix time), in the batch or already stored, are dropped. A fix older
    than live_max_age_s (a terminal emptying a queue from last year) is stored as history but
    moves no live state and raises no live alarm."""
    with conn.cursor() as cur:
        cur.execute(STAGE_SQL)
        with cur.copy("COPY fix_stage FROM STDIN") as copy:
            copy.write(_stage_rows(fixes))
        cur.execute(INSERT_POSITIONS_SQL)
        (stored,) = cur.fetchone()
        cur.execute(UPSERT_STATE_SQL, {"age": live_max_age_s})
        latest = [_live_state(r) for r in cur.fetchall()]
        cur.execute(TOUCH_HEARD_SQL)
        cur.execute(RAISE_ALARMS_SQL, (list(ALARM_KINDS), live_max_age_s))
        alarms = [_alarm(r) for r in cur.fetchall()]
    raised = [a for a in alarms if not a.get("repeat")]
    return WriteResult(stored, len(fixes) - stored, latest, raised, [a for a in alarms if a.get("repeat")])


def _live_state(r: Any) -> dict[str, Any]:
    return dict(
        device_id=r[0],
        lat=r[1],
        lon=r[2],
        fix_time=r[3].isoformat(),
        speed_kmh=r[4],
        course=r[5],
        recording=r[6],
        alarms=list(r[7]),
        state="online",
    )


def _alarm(r: Any) -> dict[str, Any]:
    return dict(
        id=r[0],
        device_id=r[1],
        officer_id=r[2],
        kind=r[3],
        at=r[4].isoformat(),
        lat=r[5],
        lon=r[6],
        status=r[8],
        **({} if r[7] else {"repeat": True}),
    )


def touch(session: Session, heard: dict[int, dt.datetime]) -> None:
    """Devices heard without a position (heartbeats): seen then, so they stay online; their
    last position and fix time are left as they were."""
    if heard:
        session.execute(
            text(
                """UPDATE device_state s SET last_seen = greatest(s.last_seen, h.at)
                   FROM unnest(CAST(:ids AS int[]), CAST(:ats AS timestamptz[])) AS h(device_id, at)
                   WHERE s.device_id = h.device_id"""
            ),
            {"ids": list(heard), "ats": list(heard.values())},
        )


def sweep_states(session: Session, stale_after_s: int, offline_after_s: int) -> list[dict[str, Any]]:
    """Recompute online/stale/offline from last_seen; returns the devices that changed.
    Devices of on-duty officers that go offline raise an 'offline' alarm."""
    changed = session.execute(
        text(
            """
            UPDATE device_state s SET state = n.state
            FROM (SELECT device_id, CASE
                      WHEN last_seen > now() - make_interval(secs => :stale) THEN 'online'
                      WHEN last_seen > now() - make_interval(secs => :offline) THEN 'stale'
                      ELSE 'offline' END AS state
                  FROM device_state) n
            WHERE n.device_id = s.device_id AND n.state <> s.state
            RETURNING s.device_id, s.state, ST_Y(s.geom), ST_X(s.geom)
            """
        ),
        dict(stale=stale_after_s, offline=offline_after_s),
    ).all()
    offline = [r[0] for r in changed if r[1] == "offline"]
    if offline:
        session.execute(
            text(
                """
            INSERT INTO alarm AS a (device_id, officer_id, kind, at, last_at, geom)
            SELECT d.id, d.officer_id, 'offline', now(), now(), s.geom FROM device d
            JOIN device_state s ON s.device_id = d.id
            JOIN officer o ON o.id = d.officer_id AND o.duty_state <> 'off_duty'
            WHERE d.id = ANY(:ids)
            ON CONFLICT (device_id, kind) WHERE status <> 'resolved' DO UPDATE
                SET repeats = a.repeats + 1, last_at = EXCLUDED.last_at
            """
            ),
            {"ids": offline},
        )
    return [dict(device_id=r[0], state=r[1], lat=r[2], lon=r[3]) for r in changed]


# -- reads for the API ------------------------------------------------------------------
def track(
    session: Session, device_id: int, start: dt.datetime, end: dt.datetime, simplify_m: float = 0.0
) -> dict[str, Any]:
    rows = session.execute(
        text(
            """
        SELECT fix_time, ST_X(geom), ST_Y(geom), speed_kmh, course, attributes FROM position
        WHERE device_id = :d AND fix_time >= :s AND fix_time < :e ORDER BY fix_time
        """
        ),
        dict(d=device_id, s=start, e=end),
    ).all()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r[1], r[2]]},
            "properties": {
                "time": r[0].isoformat(),
                "speed_kmh": r[3],
                "course": r[4],
                **{k: v for k, v in (r[5] or {}).items() if k in ("recording", "alarms", "battery")},
            },
        }
        for r in rows
    ]
    line = None
    if len(rows) >= 2:
        line = session.execute(
            text(
                """
            -- simplify in metres: CGCS2000 3-degree Gauss-Kruger zone CM 117E (EPSG:4548)
            SELECT ST_AsGeoJSON(CASE WHEN :tol > 0 THEN ST_Transform(ST_Simplify(
                       ST_Transform(l, 4548), :tol), 4326) ELSE l END, 7)
            FROM (SELECT ST_MakeLine(geom ORDER BY fix_time) AS l FROM position
                  WHERE device_id = :d AND fix_time >= :s AND fix_time < :e) t
            """
            ),
            dict(d=device_id, s=start, e=end, tol=simplify_m),
        ).scalar()
    if line:
        features.insert(
            0,
            {
                "type": "Feature",
                "geometry": json.loads(line),
                "properties": {"kind": "track", "fixes": len(rows), "simplified_m": simplify_m},
            },
        )
    return {"type": "FeatureCollection", "features": features}
