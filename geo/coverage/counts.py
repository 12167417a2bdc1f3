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

from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.coverage.model import DAY_SQL, GROUPINGS, CoverageError, Filter, Group, Window
from geo.places import target_map


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
