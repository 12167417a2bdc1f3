"""Every deadline of a case and of a case source, and the warnings sweep.

A clock is a due date stored on the case or source row while the clock runs (the step that
ends it clears it), so one SQL statement judges all of them: amber 3 working days before,
red from 1 working day before through the due day itself, breach once the day has passed
(the last day is still lawful: "以内" includes it, 程序规定 第八十四条); the 90-day clock is
also amber from day 60 and red from day 80 of its running time, so an extension is sought in
time. The sweep upserts `case_warning` and returns what was raised or changed, for the push."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.errors import Refused
from geo.infra.timezone import today as beijing_today

CASE_CLOCKS = ("decide", "review", "hearing_host", "hearing_report", "service", "close", "file")
SOURCE_CLOCKS = ("verify", "accept", "reporter")
LEVELS = ("amber", "red", "breach")
RUNNING = (
    "('filed','investigating','under_review','awaiting_approval','approved','notified','statements','hearing_reported')"
)

_CLOCKS_SQL = f"""
SELECT 'case:' || e.id AS subject, e.id AS case_id, NULL::bigint AS source_id, e.unit_id, k.clock, k.due,
       k.elapsed
FROM enf_case e CROSS JOIN LATERAL (VALUES
    ('decide', CASE WHEN e.status IN {RUNNING} THEN e.decision_due END,
               CASE WHEN e.status IN {RUNNING} THEN (CAST(:today AS date) - e.filed_on) - e.paused_days END),
    ('review', e.review_due, NULL), ('hearing_host', e.hearing_host_due, NULL),
    ('hearing_report', e.hearing_report_due, NULL), ('service', e.service_due, NULL),
    ('close', e.close_due, NULL), ('file', e.file_due, NULL)) AS k(clock, due, elapsed)
WHERE e.status NOT IN ('closed', 'onsite_filed') AND k.due IS NOT NULL
  {{case_filter}}
UNION ALL
SELECT 'source:' || s.id, NULL, s.id, s.unit_id, k.clock, k.due, NULL
FROM case_source s CROSS JOIN LATERAL (VALUES
    ('verify', CASE WHEN s.status IN ('registered', 'verifying') THEN s.verify_due END),
    ('accept', CASE WHEN s.kind = 'complaint' AND s.accepted_on IS NULL
                     AND s.status IN ('registered', 'verifying') THEN s.accept_due END),
    ('reporter', CASE WHEN s.reporter_told_on IS NULL THEN s.reporter_notify_due END)) AS k(clock, due)
WHERE (s.status IN ('registered', 'verifying') OR (s.reporter_notify_due IS NOT NULL AND s.reporter_told_on IS NULL))
  AND k.due IS NOT NULL
  {{source_filter}}
"""


def _clocks_sql(only: bool) -> str:
    """All running clocks, or (only) those of :cases and :sources; two texts, so that each
    plan is the right one (an index probe for a step, a scan for the sweep)."""
    if not only:
        return _CLOCKS_SQL.format(case_filter="", source_filter="")
    return _CLOCKS_SQL.format(
        case_filter="AND e.id = ANY(CAST(:cases AS bigint[]))",
        source_filter="AND s.id = ANY(CAST(:sources AS bigint[]))",
    )


_LEVEL_SQL = """
CASE WHEN k.due < CAST(:today AS date) THEN 'breach'
     WHEN w.ordinal - t.ordinal <= 1 OR k.elapsed >= 80 THEN 'red'
     WHEN w.ordinal - t.ordinal <= 3 OR k.elapsed >= 60 THEN 'amber' END
"""


def sweep(
    session: Session,
    today: dt.date | None = None,
    *,
    cases: list[int] | None = None,
    sources: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Judge every running clock (or only those of the given cases and sources); returns the
    warnings raised or changed. Cleared ones are deleted."""
    today = today or beijing_today()
    if session.execute(text("SELECT 1 FROM work_calendar WHERE day = :d"), {"d": today}).first() is None:
        raise Refused([{"rule": "calendar_unknown"}], detail=f"the working-day calendar has no entry for {today}")
    only = cases is not None or sources is not None
    params = {
        "today": today,
        "cases": (cases or []) if only else None,
        "sources": (sources or []) if only else None,
    }
    subjects = (
        "TRUE"
        if not only
        else "(w.case_id = ANY(CAST(:cases AS bigint[])) OR w.source_id = ANY(CAST(:sources AS bigint[])))"
    )
    rows = session.execute(
        text(
            f"""
            WITH clocks AS ({_clocks_sql(only)}),
            judged AS (
                SELECT k.*, {_LEVEL_SQL} AS level
                FROM clocks k JOIN work_calendar w ON w.day = k.due
                CROSS JOIN (SELECT ordinal FROM work_calendar WHERE day = CAST(:today AS date)) t
            ),
            cleared AS (
                DELETE FROM case_warning w WHERE {subjects} AND NOT EXISTS (
                    SELECT 1 FROM judged j WHERE j.level IS NOT NULL AND j.subject = w.subject AND j.clock = w.clock)
                RETURNING w.subject
            )
            INSERT INTO case_warning AS cw (subject, clock, case_id, source_id, due, level, unit_id)
            SELECT subject, clock, case_id, source_id, due, level, unit_id FROM judged WHERE level IS NOT NULL
            ON CONFLICT (subject, clock) DO UPDATE SET due = EXCLUDED.due, level = EXCLUDED.level, raised_at = now()
            WHERE (cw.level, cw.due) IS DISTINCT FROM (EXCLUDED.level, EXCLUDED.due)
            RETURNING subject, clock, case_id, source_id, due, level, unit_id
            """
        ),
        params,
    ).mappings()
    return [{**r, "due": r["due"].isoformat()} for r in rows]


def refresh(session: Session, case_id: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """After a step: the case's nearest deadline (for sorting) and its warnings now. What it
    raised is also kept in `session.info["raised_warnings"]`, for the push after commit."""
    today = today or beijing_today()
    source = session.execute(
        text(
            f"""
            UPDATE enf_case SET (next_due, next_clock) = (
                SELECT k.due, k.clock FROM ({_clocks_sql(True)}) k WHERE k.case_id IS NOT NULL
                ORDER BY k.due LIMIT 1)
            WHERE id = :case_id RETURNING source_id
            """
        ),
        {"case_id": case_id, "today": today, "cases": [case_id], "sources": []},
    ).scalar()
    try:
        raised = sweep(session, today, cases=[case_id], sources=[source] if source else [])
    except Refused:  # no calendar for today: the next sweep, once one is entered, judges it
        return []
    session.info.setdefault("raised_warnings", []).extend(raised)
    return raised


def refresh_next_due(session: Session, after: dt.date) -> int:
    """Every case whose nearest deadline lies past `after` sorted again (after the calendar
    changed there); returns how many moved."""
    ids = list(
        session.execute(
            text("SELECT id FROM enf_case WHERE next_due > :a AND status NOT IN ('closed', 'onsite_filed')"),
            {"a": after},
        ).scalars()
    )
    if not ids:
        return 0
    result = session.execute(
        text(
            f"""UPDATE enf_case e SET next_due = n.due, next_clock = n.clock
                FROM (SELECT DISTINCT ON (k.case_id) k.case_id, k.due, k.clock FROM ({_clocks_sql(True)}) k
                      WHERE k.case_id IS NOT NULL ORDER BY k.case_id, k.due) n
                WHERE e.id = n.case_id AND (e.next_due, e.next_clock) IS DISTINCT FROM (n.due, n.clock)"""
        ),
        {"cases": ids, "sources": [], "today": beijing_today()},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def take_raised(session: Session) -> list[dict[str, Any]]:
    """The warnings the steps in this unit of work raised, once (to be told after its commit)."""
    raised: list[dict[str, Any]] = session.info.pop("raised_warnings", [])
    return raised


def clocks(session: Session, case: dict[str, Any], today: dt.date | None = None) -> list[dict[str, Any]]:
    """The case file's clocks: each running deadline with its working days left and level."""
    today = today or beijing_today()
    rows = session.execute(
        text(
            f"""
            SELECT k.clock, k.due, k.elapsed, w.ordinal - t.ordinal AS workdays_left, {_LEVEL_SQL} AS level,
                   w.provisional
            FROM ({_clocks_sql(True)}) k JOIN work_calendar w ON w.day = k.due
            CROSS JOIN (SELECT ordinal FROM work_calendar WHERE day = CAST(:today AS date)) t
            ORDER BY k.due
            """
        ),
        {"today": today, "cases": [case["id"]], "sources": [case["source_id"]] if case.get("source_id") else []},
    ).mappings()
    out = [{**r, "due": r["due"].isoformat()} for r in rows]
    if case["status"] in ("suspended", "hearing_requested", "hearing_held"):
        out.append(
            {
                "clock": "decide",
                "due": None,
                "paused": True,
                "level": None,
                "workdays_left": None,
                "elapsed": (today - case["filed_on"]).days - case["paused_days"],
            }
        )
    return out
