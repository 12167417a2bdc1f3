"""Coverage: of the targets in scope, how many were inspected in a window, by unit, enforcement
body, township, domain or officer; with results, response times, participation, random-plan
completion and blind spots.

Numerators come from the coverage facts (migration 0007): each completed inspection carries
the day of the previous inspection of the same target under each grouping, so "distinct
targets inspected in [s, e]" is the count of the window's rows whose previous day is before
s (or absent). Denominators come from the registry strata of the targets layer
(township × risk × domain mask, geo/target_map.py). brute_force() recounts both from the raw
tables; the two must always agree.

A unit's scope is the targets in its area (unit_area) registered in its domains; an
officer's, those in his own area and his unit's domains; a body acts for its unit."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import errors, queries, target_map

GROUPINGS = ("unit", "body", "township", "domain", "officer", "risk", "district")
DAY_SQL = "(timezone('Asia/Shanghai', {col}))::date"


class CoverageError(errors.InvalidInput):
    """A coverage question that cannot be answered as asked (HTTP 400)."""


@dataclass(frozen=True)
class Window:
    start: dt.date  # inclusive
    end: dt.date  # inclusive

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise CoverageError("start must not be after end")
        if (self.end - self.start).days > 3660:
            raise CoverageError("a window spans at most ten years")


@dataclass(frozen=True)
class Filter:
    township: str | None = None
    domain: str | None = None
    unit_ids: frozenset[int] | None = None  # a unit-scoped viewer, or a drill-down into one unit
    risk: int | None = None


@dataclass
class Group:
    key: str
    name: str
    inspected: int = 0
    targets: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "numerator": self.inspected,
            "denominator": self.targets,
            "ratio": round(self.inspected / self.targets, 6) if self.targets else None,
        }


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


# -- denominators -------------------------------------------------------------------------
def _strata(session: Session) -> tuple[list[str], list[tuple[str, int, int, int]]]:
    keys = target_map.domain_keys(session)
    rows = session.execute(
        text(
            f"SELECT township_code, risk_level, domain_mask, sum(n) FROM target_cell "
            f"WHERE level = {target_map.LEVELS - 1} GROUP BY 1, 2, 3"
        )
    ).all()
    return keys, [tuple(r) for r in rows]


def _mask(keys: list[str], domains: Any) -> int:
    return sum(1 << keys.index(d) for d in domains if d in keys)


def _scopes(session: Session, by: str, flt: Filter) -> dict[str, dict[str, Any]]:
    """Each group's name, townships and domains (None = any), for the denominators."""
    units = "CAST(:units AS int[]) IS NULL OR u.id = ANY(CAST(:units AS int[]))"
    params = {"units": sorted(flt.unit_ids) if flt.unit_ids is not None else None}
    rows: Any
    if by in ("unit", "body"):
        key = "u.id" if by == "unit" else "b.id"
        name = "u.name" if by == "unit" else "b.name"
        join = "" if by == "unit" else "JOIN enforcement_body b ON b.unit_id = u.id"
        rows = (
            session.execute(
                text(
                    f"""SELECT {key} AS key, {name} AS name, u.id AS unit_id, u.domains,
                       coalesce((SELECT array_agg(township_code) FROM unit_area a WHERE a.unit_id = u.id),
                                '{{}}') AS towns
                FROM enforcement_unit u {join} WHERE {units}"""
                ),
                params,
            )
            .mappings()
            .all()
        )
    elif by == "officer":
        rows = (
            session.execute(
                text(
                    f"""SELECT o.id AS key, o.name, u.id AS unit_id, u.domains,
                       coalesce((SELECT array_agg(township_code) FROM officer_area a WHERE a.officer_id = o.id),
                                '{{}}') AS towns
                FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE {units}"""
                ),
                params,
            )
            .mappings()
            .all()
        )
    elif by == "township":
        rows = [
            {"key": c, "name": n, "towns": [c], "domains": None}
            for c, n in session.execute(text("SELECT code, name FROM township ORDER BY code"))
        ]
    elif by == "domain":
        rows = [
            {"key": k, "name": zh, "towns": None, "domains": [k]}
            for k, zh in session.execute(text("SELECT key, zh FROM domain ORDER BY key"))
        ]
    elif by == "risk":
        rows = [{"key": str(r), "name": str(r), "towns": None, "domains": None, "risk": r} for r in (1, 2, 3, 4)]
    else:
        rows = [{"key": "district", "name": "滨海新区", "towns": None, "domains": None}]
    return {str(r["key"]): dict(r) for r in rows}


def denominators(session: Session, by: str, flt: Filter, scopes: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Targets in each group's scope, summed from the strata township by township (groups
    sharing a scope, such as officers with the same area, are summed once)."""
    keys, strata = _strata(session)
    per_town: dict[str, Any] = {}
    for town, risk, m, count in strata:
        per_town.setdefault(town, []).append((m, risk, count))
    per_town = {town: np.array(rows, dtype=np.int64).reshape(-1, 3) for town, rows in per_town.items()}
    want = _mask(keys, [flt.domain]) if flt.domain else None
    cache: dict[tuple[Any, ...], int] = {}
    out = {}
    for key, scope in scopes.items():
        towns = scope["towns"] if scope.get("towns") is not None else list(per_town)
        if flt.township:
            towns = [t for t in towns if t == flt.township]
        mask = _mask(keys, scope["domains"]) if scope.get("domains") is not None else None
        signature = (frozenset(towns), mask, scope.get("risk"))
        if signature not in cache:
            n = 0
            for town in signature[0]:
                rows = per_town.get(town)
                if rows is None:
                    continue
                keep = np.ones(len(rows), dtype=bool)
                if mask is not None:
                    keep &= (rows[:, 0] & mask) != 0
                if want is not None:
                    keep &= (rows[:, 0] & want) != 0
                if "risk" in scope:
                    keep &= rows[:, 1] == scope["risk"]
                if flt.risk is not None:
                    keep &= rows[:, 1] == flt.risk
                n += int(rows[keep, 2].sum())
            cache[signature] = n
        out[key] = cache[signature]
    return out


# -- numerators ---------------------------------------------------------------------------
def _fact_terms(by: str, flt: Filter) -> tuple[str, str, list[str]]:
    """(previous-day column, group expression, conditions) over coverage_fact for a grouping."""
    where = [
        "(CAST(:town AS text) IS NULL OR township_code = :town)",
        "(CAST(:risk AS int) IS NULL OR risk_level = :risk)",
    ]
    if by in ("unit", "body"):
        prev = "prev_unit_domain" if flt.domain else "prev_unit"
        where += ["in_unit_scope", "unit_id IS NOT NULL"]
        group = "unit_id::text"
    elif by == "domain":
        prev, group = "prev_domain", "domain_key"
        where.append("in_domain")
    else:
        prev = "prev_domain" if flt.domain else "prev_any"
        group = {"township": "township_code", "risk": "risk_level::text", "district": "'district'"}[by]
    if flt.domain:
        where += ["domain_key = :dom", "in_domain"]
    return prev, group, where


def _params(window: Window, flt: Filter) -> dict[str, Any]:
    return {"s": window.start, "e": window.end, "town": flt.township, "dom": flt.domain, "risk": flt.risk}


def numerators(session: Session, by: str, window: Window, flt: Filter) -> dict[str, int]:
    w = _params(window, flt)
    if by == "officer":
        prev = "prev_officer_target_domain" if flt.domain else "prev_officer_target"
        sql = (
            f"SELECT officer_id::text, count(*) FILTER (WHERE {prev} IS NULL OR {prev} < :s) "
            "FROM coverage_officer_fact WHERE day BETWEEN :s AND :e AND in_scope "
            "AND (CAST(:town AS text) IS NULL OR township_code = :town) "
            "AND (CAST(:dom AS text) IS NULL OR domain_key = :dom) "
            "AND (CAST(:risk AS int) IS NULL OR risk_level = :risk) GROUP BY 1"
        )
        return dict(session.execute(text(sql), w).all())
    prev, group, where = _fact_terms(by, flt)
    sql = (
        f"SELECT {group}, count(*) FILTER (WHERE {prev} IS NULL OR {prev} < :s) "
        f"FROM coverage_fact WHERE day BETWEEN :s AND :e AND {' AND '.join(where)} GROUP BY 1"
    )
    counts: dict[Any, int] = dict(session.execute(text(sql), w).all())
    if by == "body":  # a body acts for its unit
        bodies = session.execute(text("SELECT id::text, unit_id::text FROM enforcement_body")).all()
        counts = {b: counts.get(u, 0) for b, u in bodies}
    return counts


# -- the brute-force recount (the reference) ----------------------------------------------
def _scope_sql(by: str) -> tuple[str, str, str]:
    """(group key, extra joins, scope condition) over inspection i, target t."""
    if by in ("unit", "body"):
        key = "i.unit_id::text" if by == "unit" else "b.id::text"
        joins = "JOIN enforcement_unit u ON u.id = i.unit_id" + (
            " JOIN enforcement_body b ON b.unit_id = u.id" if by == "body" else ""
        )
        cond = (
            "i.domain_key = ANY(t.domains) AND t.domains && u.domains AND EXISTS (SELECT 1 FROM unit_area ua "
            "WHERE ua.unit_id = u.id AND ua.township_code = t.township_code)"
        )
        return key, joins, cond
    if by == "officer":
        joins = (
            "JOIN inspection_officer io ON io.inspection_id = i.id JOIN officer o ON o.id = io.officer_id "
            "JOIN enforcement_unit u ON u.id = o.unit_id"
        )
        cond = (
            "i.domain_key = ANY(t.domains) AND i.domain_key = ANY(u.domains) AND EXISTS (SELECT 1 FROM "
            "officer_area a WHERE a.officer_id = o.id AND a.township_code = t.township_code)"
        )
        return "o.id::text", joins, cond
    if by == "domain":
        return "i.domain_key", "", "i.domain_key = ANY(t.domains)"
    return {"township": "t.township_code", "risk": "t.risk_level::text", "district": "'district'"}[by], "", "true"


def _brute_numerators(session: Session, by: str, window: Window, flt: Filter) -> dict[str, int]:
    key, joins, cond = _scope_sql(by)
    day = DAY_SQL.format(col="i.completed_at")
    sql = f"""
        SELECT {key}, count(DISTINCT i.target_id)
        FROM inspection i JOIN target t ON t.id = i.target_id {joins}
        WHERE i.status = 'completed' AND {day} BETWEEN :s AND :e AND {cond}
          AND (CAST(:town AS text) IS NULL OR t.township_code = :town)
          AND (CAST(:dom AS text) IS NULL OR (i.domain_key = :dom AND :dom = ANY(t.domains)))
          AND (CAST(:risk AS int) IS NULL OR t.risk_level = :risk)
        GROUP BY 1"""
    return dict(session.execute(text(sql), _params(window, flt)).all())


def brute_force(session: Session, by: str, window: Window, flt: Filter = Filter()) -> dict[str, tuple[int, int]]:
    """{group: (numerator, denominator)} recounted from the raw tables alone."""
    scopes = _scopes(session, by, flt)
    nums = _brute_numerators(session, by, window, flt)
    dom = "(CAST(:dom AS text) IS NULL OR :dom = ANY(t.domains))"
    town = "(CAST(:town AS text) IS NULL OR t.township_code = :town)"
    risk = "(CAST(:risk AS int) IS NULL OR t.risk_level = :risk)"
    p: dict[str, Any] = {"dom": flt.domain, "town": flt.township, "risk": flt.risk}
    out = {}
    for key, scope in scopes.items():
        conds = [dom, town, risk]
        params = dict(p)
        if scope.get("towns") is not None:
            conds.append("t.township_code = ANY(:towns)")
            params["towns"] = list(scope["towns"])
        if scope.get("domains") is not None:
            conds.append("t.domains && CAST(:domains AS text[])")
            params["domains"] = list(scope["domains"])
        if "risk" in scope:
            conds.append("t.risk_level = :group_risk")
            params["group_risk"] = scope["risk"]
        denominator = session.execute(
            text(f"SELECT count(*) FROM target t WHERE {' AND '.join(conds)}"), params
        ).scalar_one()
        if denominator or nums.get(key):
            out[key] = (int(nums.get(key, 0)), denominator)
    return out


# -- the answer ---------------------------------------------------------------------------
def coverage(session: Session, by: str, window: Window, flt: Filter = Filter()) -> list[dict[str, Any]]:
    """Numerator, denominator and ratio per group, highest ratio first; groups with no
    target in scope are left out."""
    if by not in GROUPINGS:
        raise CoverageError(f"by must be one of {', '.join(GROUPINGS)}")
    if flt.domain and flt.domain not in target_map.domain_keys(session):
        raise CoverageError(f"unknown domain {flt.domain!r}")
    scopes = _scopes(session, by, flt)
    dens = denominators(session, by, flt, scopes)
    nums = numerators(session, by, window, flt)
    groups = [
        Group(k, str(scopes[k]["name"]), int(nums.get(k, 0)), dens.get(k, 0))
        for k in scopes
        if dens.get(k, 0) or nums.get(k)
    ]
    groups.sort(key=lambda g: (-(g.inspected / g.targets if g.targets else 0), g.key))
    return [g.as_dict() for g in groups]


def _summary_terms(window: Window, flt: Filter) -> tuple[str, dict[str, Any]]:
    units = sorted(flt.unit_ids) if flt.unit_ids is not None else None
    w = {**_params(window, flt), "units": units}
    cond = (
        "day BETWEEN :s AND :e AND (CAST(:town AS text) IS NULL OR township_code = :town) "
        "AND (CAST(:dom AS text) IS NULL OR domain_key = :dom)"
    )
    return cond, w


def _whole(flt: Filter) -> str:
    """The grouping whose one group is "everything" for this filter: one unit's scope when it
    names a single unit, else the district."""
    return "unit" if flt.unit_ids is not None and len(flt.unit_ids) == 1 else "district"


UNIT_FACT = "(CAST(:units AS int[]) IS NULL OR unit_id = ANY(CAST(:units AS int[])))"
UNIT_OFFICER = (
    "(CAST(:units AS int[]) IS NULL OR officer_id IN "
    "(SELECT id FROM officer WHERE unit_id = ANY(CAST(:units AS int[]))))"
)


def summary(session: Session, window: Window, flt: Filter = Filter(), blind_days: int = 90) -> dict[str, Any]:
    """The leaders' KPI cards for a window; for one unit (a drill-down or a unit-scoped
    viewer) the figures are that unit's."""
    cond, w = _summary_terms(window, flt)
    row = (
        session.execute(
            text(
                f"""SELECT count(*) AS inspections,
                   count(*) FILTER (WHERE result = 'compliant') AS compliant,
                   count(*) FILTER (WHERE result = 'violation') AS violation,
                   count(*) FILTER (WHERE result = 'could_not_inspect') AS could_not_inspect,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s) AS response_p50_s,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s) AS response_p90_s,
                   avg(on_time::int) AS on_time_share
            FROM coverage_fact WHERE {cond} AND {UNIT_FACT}"""
            ),
            w,
        )
        .mappings()
        .one()
    )
    officers = (
        session.execute(
            text(
                f"""SELECT count(*) FILTER (WHERE prev_officer IS NULL OR prev_officer < :s) AS active,
                   count(*) AS officer_inspections
            FROM coverage_officer_fact WHERE {cond} AND {UNIT_OFFICER}"""
            ),
            w,
        )
        .mappings()
        .one()
    )
    # Participation divides by the officers the filter is about: certified in the window, of
    # the filter's units, whose area holds the filter's township, of a unit holding the
    # filter's domain (not by the whole district's officers).
    certified = session.execute(
        text(
            """SELECT count(*) FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
            WHERE o.cert_valid_from <= :e AND o.cert_valid_to >= :s
              AND (CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[])))
              AND (CAST(:town AS text) IS NULL OR EXISTS (
                   SELECT 1 FROM officer_area a WHERE a.officer_id = o.id AND a.township_code = :town))
              AND (CAST(:dom AS text) IS NULL OR :dom = ANY(u.domains))"""
        ),
        w,
    ).scalar_one()
    # Random plans running in the window (drawn by its end, due on or after its start), and
    # their tasks under the same filter: a plan due next week is "due" now, not 0 / 0.
    plans = (
        session.execute(
            text(
                f"""SELECT count(DISTINCT p.id) AS plans, count(i.id) AS planned,
                   count(i.id) FILTER (WHERE i.status = 'completed') AS done,
                   count(i.id) FILTER (WHERE i.status = 'completed' AND i.completed_at <= p.due_at) AS on_time
            FROM random_plan p
            JOIN inspection i ON i.plan_id = p.id AND i.status <> 'cancelled'
            JOIN target t ON t.id = i.target_id
            WHERE {DAY_SQL.format(col="p.created_at")} <= :e AND {DAY_SQL.format(col="p.due_at")} >= :s
              AND (CAST(:town AS text) IS NULL OR t.township_code = :town)
              AND (CAST(:dom AS text) IS NULL OR i.domain_key = :dom)
              AND (CAST(:units AS int[]) IS NULL OR i.unit_id = ANY(CAST(:units AS int[])))"""
            ),
            w,
        )
        .mappings()
        .one()
    )
    by = _whole(flt)
    whole = coverage(session, by, window, flt)
    today = window.end
    blind = (
        coverage(session, "risk", Window(today - dt.timedelta(days=blind_days), today), flt) if by == "district" else []
    )
    return {
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "scope": by,
        "coverage": whole[0] if whole else {"numerator": 0, "denominator": 0, "ratio": None},
        "inspections": row["inspections"],
        "results": {k: row[k] for k in ("compliant", "violation", "could_not_inspect")},
        "response_p50_min": round(row["response_p50_s"] / 60, 1) if row["response_p50_s"] is not None else None,
        "response_p90_min": round(row["response_p90_s"] / 60, 1) if row["response_p90_s"] is not None else None,
        "on_time_share": round(float(row["on_time_share"]), 4) if row["on_time_share"] is not None else None,
        "officers_active": officers["active"],
        "officers_certified": certified,
        "participation": round(officers["active"] / certified, 4) if certified else None,
        "inspections_per_officer": round(officers["officer_inspections"] / officers["active"], 2)
        if officers["active"]
        else None,
        "random_plan": {
            "plans": plans["plans"],
            "planned": plans["planned"],
            "completed": plans["done"],
            "completed_on_time": plans["on_time"],
        },
        "blind_spots": {"days": blind_days, "by_risk": {g["key"]: g["denominator"] - g["numerator"] for g in blind}},
    }


RESPONSE_BINS_MIN = (15, 30, 60, 120, 240, 480, 1440)


def response_histogram(session: Session, window: Window, flt: Filter = Filter()) -> list[dict[str, Any]]:
    """Inspections by time from creation to arrival on site, in bins of minutes ("<15",
    "15-30", ... ">=1440"), with how many of each bin arrived within the due time."""
    cond, w = _summary_terms(window, flt)
    edges = ", ".join(str(b * 60) for b in RESPONSE_BINS_MIN)
    rows = dict(
        (b, (n, on))
        for b, n, on in session.execute(
            text(
                f"""SELECT width_bucket(response_s, ARRAY[{edges}]::float8[]), count(*), count(*) FILTER (WHERE on_time)
            FROM coverage_fact WHERE {cond} AND {UNIT_FACT} AND response_s IS NOT NULL GROUP BY 1"""
            ),
            w,
        )
    )
    labels = (
        [f"<{RESPONSE_BINS_MIN[0]}"]
        + [f"{a}-{b}" for a, b in itertools.pairwise(RESPONSE_BINS_MIN)]
        + [f">={RESPONSE_BINS_MIN[-1]}"]
    )
    return [
        {"minutes": label, "inspections": rows.get(i, (0, 0))[0], "on_time": rows.get(i, (0, 0))[1]}
        for i, label in enumerate(labels)
    ]


TREND_STEPS = {"day": "day", "week": "week", "month": "month"}
# The first day of a fact's step, in date arithmetic (a fifth faster over a year of facts
# than date_trunc's round trip through a timestamp).
STEP_FIRST_SQL = {
    "day": "day",
    "week": "(day - (date_part('isodow', day)::int - 1))",
    "month": "(day - (date_part('day', day)::int - 1))",
}


def trend(session: Session, window: Window, flt: Filter = Filter(), step: str = "month") -> list[dict[str, Any]]:
    """Coverage of the district (or of the one unit in the filter) per day, week or month of
    the window: distinct targets inspected in each step over the targets in scope now. The
    same previous-day trick as numerators(), with each step's first day as s."""
    if step not in TREND_STEPS:
        raise CoverageError("step must be day, week or month")
    by = _whole(flt)
    prev, _group, where = _fact_terms(by, flt)
    if by == "unit":
        where.append("unit_id = ANY(CAST(:units AS int[]))")
    first_sql = STEP_FIRST_SQL[step]
    rows = session.execute(
        text(
            f"""SELECT {first_sql} AS first, count(*) AS inspections,
                   count(*) FILTER (WHERE {prev} IS NULL
                                    OR {prev} < greatest({first_sql}, CAST(:s AS date))) AS inspected
            FROM coverage_fact WHERE day BETWEEN :s AND :e AND {" AND ".join(where)} GROUP BY 1 ORDER BY 1"""
        ),
        {**_params(window, flt), "units": sorted(flt.unit_ids or [])},
    ).all()
    dens = denominators(session, by, flt, _scopes(session, by, flt))
    targets = sum(dens.values())
    found = {r.first: r for r in rows}
    out, day = [], window.start
    while day <= window.end:
        first: dt.date = {"day": day, "week": day - dt.timedelta(days=day.weekday()), "month": day.replace(day=1)}[step]
        r = found.get(first)
        inspected = r.inspected if r else 0
        out.append(
            {
                "start": max(first, window.start).isoformat(),
                "numerator": inspected,
                "denominator": targets,
                "ratio": round(inspected / targets, 6) if targets else None,
                "inspections": r.inspections if r else 0,
            }
        )
        day = _next_step(first, step)
    return out


def recent_steps(end: dt.date, step: str, n: int) -> Window:
    """The window of the n days, weeks or months ending with the one holding `end`."""
    if step == "day":
        return Window(end - dt.timedelta(days=n - 1), end)
    if step == "week":
        return Window(end - dt.timedelta(days=end.weekday() + 7 * (n - 1)), end)
    months = end.year * 12 + end.month - 1 - (n - 1)
    return Window(dt.date(months // 12, months % 12 + 1, 1), end)


def _next_step(first: dt.date, step: str) -> dt.date:
    if step == "day":
        return first + dt.timedelta(days=1)
    if step == "week":
        return first + dt.timedelta(days=7)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def inspection_heat(
    session: Session, since: dt.date, unit_ids: frozenset[int] | None = None, cell_deg: float = 0.01
) -> dict[str, Any]:
    """Inspections completed since a day, counted at their targets on a grid of cell_deg
    squares (k: violations found), as GeoJSON cells for the heat map."""
    rows = session.execute(
        text(
            """SELECT floor(ST_X(t.geom) / :c)::int, floor(ST_Y(t.geom) / :c)::int, count(*),
                  count(*) FILTER (WHERE f.result = 'violation')
           FROM coverage_fact f JOIN target t ON t.id = f.target_id
           WHERE f.day >= :since AND (CAST(:units AS int[]) IS NULL OR f.unit_id = ANY(CAST(:units AS int[])))
           GROUP BY 1, 2"""
        ),
        {"c": cell_deg, "since": since, "units": sorted(unit_ids) if unit_ids is not None else None},
    ).all()
    return queries.grid_geojson(rows, cell_deg, "{n} / {k} ✗")


def parse_window(start: str | None, end: str | None, period: str | None, today: dt.date) -> Window:
    """An explicit [start, end] (ISO dates), or a period ending today: last30 (the last 30
    days), day, week, month, quarter, year. The current month by default (the API's; the
    leaders' page opens on the last 30 days)."""
    if start or end:
        try:
            s = dt.date.fromisoformat(start) if start else today.replace(day=1)
            e = dt.date.fromisoformat(end) if end else today
        except ValueError:
            raise CoverageError("start and end are ISO dates, e.g. 2026-11-01") from None
        return Window(s, e)
    period = period or "month"
    firsts = {
        "last30": today - dt.timedelta(days=29),  # the 30 days up to today: never an empty 1st of the month
        "day": today,
        "week": today - dt.timedelta(days=today.weekday()),
        "month": today.replace(day=1),
        "quarter": today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1),
        "year": today.replace(month=1, day=1),
    }
    if period not in firsts:
        raise CoverageError("period must be last30, day, week, month, quarter or year")
    return Window(firsts[period], today)
