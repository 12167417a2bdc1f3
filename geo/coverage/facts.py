"""The coverage facts (migration 0007): one row per completed inspection with the day of the
previous inspection of the same target under each grouping; written on completion, rebuilt in bulk."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage.model import DAY_SQL

# -- keeping the facts current ------------------------------------------------------------
FACT_COLUMNS = """
    SELECT i.id AS inspection_id, i.target_id, {day} AS day, i.completed_at AS done_at, t.township_code,
           i.domain_key, i.unit_id, t.risk_level, i.result, i.plan_id,
           i.domain_key = ANY(t.domains) AS in_domain,
           coalesce(i.domain_key = ANY(t.domains) AND t.domains && u.domains
                    AND EXISTS (SELECT 1 FROM unit_area ua WHERE ua.unit_id = i.unit_id
                                AND ua.township_code = t.township_code), false) AS in_unit_scope,
           extract(epoch FROM i.on_site_at - i.created_at) AS response_s,
           CASE WHEN i.on_site_at IS NOT NULL THEN i.on_site_at <= i.due_at END AS on_time
    FROM inspection i JOIN target t ON t.id = i.target_id LEFT JOIN enforcement_unit u ON u.id = i.unit_id
    WHERE i.status = 'completed' AND i.completed_at IS NOT NULL
""".format(day=DAY_SQL.format(col="i.completed_at"))

OFFICER_COLUMNS = """
    SELECT f.inspection_id, io.officer_id, f.target_id, f.day, f.done_at, f.township_code, f.domain_key,
           f.risk_level,
           (f.in_domain AND EXISTS (SELECT 1 FROM officer_area a WHERE a.officer_id = io.officer_id
                                    AND a.township_code = f.township_code)
            AND EXISTS (SELECT 1 FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
                        WHERE o.id = io.officer_id AND f.domain_key = ANY(u.domains))) AS in_scope
    FROM coverage_fact f JOIN inspection_officer io ON io.inspection_id = f.inspection_id
"""


COMPLETION_LOCK = 0x4C47_0001  # advisory-lock namespace: coverage facts per target ("LG" 1)


def record_completion(session: Session, inspection_id: int) -> None:
    """Add a just-completed inspection to the facts. It is the newest row of every series it
    joins, so each previous day is that series' latest day so far.

    Completions of one target are serialised by a transaction-scoped advisory lock on the
    target: a second completion waits for the first to commit, and its statements (each with
    a fresh snapshot under READ COMMITTED) then see the first one's fact, so two inspections
    of one target finished at the same moment count it once."""
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:ns, CAST(i.target_id % 2147483647 AS integer)) "
            "FROM inspection i WHERE i.id = :i"
        ),
        {"ns": COMPLETION_LOCK, "i": inspection_id},
    )
    session.execute(
        text(
            f"""
        INSERT INTO coverage_fact (inspection_id, target_id, day, done_at, township_code, domain_key, unit_id,
                                   risk_level, result, plan_id, in_domain, in_unit_scope, response_s, on_time,
                                   prev_any, prev_domain, prev_unit, prev_unit_domain)
        SELECT n.*,
               (SELECT max(day) FROM coverage_fact p WHERE p.target_id = n.target_id),
               (SELECT max(day) FROM coverage_fact p WHERE p.target_id = n.target_id
                  AND p.domain_key = n.domain_key AND p.in_domain),
               (SELECT max(day) FROM coverage_fact p WHERE p.target_id = n.target_id
                  AND p.unit_id = n.unit_id AND p.in_unit_scope),
               (SELECT max(day) FROM coverage_fact p WHERE p.target_id = n.target_id
                  AND p.unit_id = n.unit_id AND p.domain_key = n.domain_key AND p.in_unit_scope)
        FROM ({FACT_COLUMNS} AND i.id = :i) n
        ON CONFLICT (inspection_id) DO NOTHING
        """
        ),
        {"i": inspection_id},
    )
    session.execute(
        text(
            f"""
        INSERT INTO coverage_officer_fact (inspection_id, officer_id, target_id, day, done_at, township_code,
                                           domain_key, risk_level, in_scope, prev_officer, prev_officer_target,
                                           prev_officer_target_domain)
        SELECT n.*,
               (SELECT max(day) FROM coverage_officer_fact p WHERE p.officer_id = n.officer_id),
               (SELECT max(day) FROM coverage_officer_fact p WHERE p.officer_id = n.officer_id
                  AND p.target_id = n.target_id AND p.in_scope),
               (SELECT max(day) FROM coverage_officer_fact p WHERE p.officer_id = n.officer_id
                  AND p.target_id = n.target_id AND p.domain_key = n.domain_key AND p.in_scope)
        FROM ({OFFICER_COLUMNS} WHERE f.inspection_id = :i) n
        ON CONFLICT DO NOTHING
        """
        ),
        {"i": inspection_id},
    )


def rebuild(session: Session) -> int:
    """Recompute every fact from the inspections (after bulk loads), written in day order;
    returns the row count. Autovacuum then marks the new pages all-visible, after which the
    officers' numerators are read from their index alone."""
    order = "ORDER BY day, done_at, inspection_id"
    # Four window sorts of every fact, then the day order the rows are written in (a window's
    # numerators then read only its days' pages): in memory, not in temporary files.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text("TRUNCATE coverage_fact, coverage_officer_fact"))
    session.execute(
        text(
            f"""
        INSERT INTO coverage_fact
        SELECT inspection_id, target_id, day, done_at, township_code, domain_key, unit_id, risk_level, result,
               plan_id, in_domain, in_unit_scope,
               lag(day) OVER (PARTITION BY target_id {order}),
               CASE WHEN in_domain THEN lag(day) OVER (PARTITION BY target_id, domain_key, in_domain {order}) END,
               CASE WHEN in_unit_scope THEN
                   lag(day) OVER (PARTITION BY target_id, unit_id, in_unit_scope {order}) END,
               CASE WHEN in_unit_scope THEN
                   lag(day) OVER (PARTITION BY target_id, unit_id, domain_key, in_unit_scope {order}) END,
               response_s, on_time
        FROM ({FACT_COLUMNS}) n
        {order}
        """
        )
    )
    session.execute(
        text(
            f"""
        INSERT INTO coverage_officer_fact (inspection_id, officer_id, target_id, day, done_at, township_code,
                                           domain_key, risk_level, in_scope, prev_officer, prev_officer_target,
                                           prev_officer_target_domain)
        SELECT inspection_id, officer_id, target_id, day, done_at, township_code, domain_key, risk_level, in_scope,
               lag(day) OVER (PARTITION BY officer_id {order}),
               CASE WHEN in_scope THEN lag(day) OVER (PARTITION BY officer_id, target_id, in_scope {order}) END,
               CASE WHEN in_scope THEN
                   lag(day) OVER (PARTITION BY officer_id, target_id, domain_key, in_scope {order}) END
        FROM ({OFFICER_COLUMNS}) n
        {order}
        """
        )
    )
    session.execute(text("ANALYZE coverage_fact; ANALYZE coverage_officer_fact"))
    return int(session.execute(text("SELECT count(*) FROM coverage_fact")).scalar_one())
