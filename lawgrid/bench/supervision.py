"""Supervision at district scale, in a database of its own: the synthetic organisation (its
units, bodies, power list and officers) and N platform enforcement records over five years
(inspections, penalties, patrols), spread over units, townships, officers and items.

Figures: every indicator for one year by unit and by township through the engine (each with
its previous period and the median of units), beside a brute-force recount of four of them in
Python from the raw rows (mismatches must be 0) and the bare GROUP BY behind the commonest
(the baseline); the p95 of one drill-down page (200 records of one unit's figure)."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter

from sqlalchemy import text

from demo.seed import seed_organisation
from geo.infra import db
from geo.places.reference import load_reference
from geo.supervision import engine
from geo.supervision.model import Period
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR

YEAR = 2025
DRILLS = 100


def _log(msg: str) -> None:
    import sys

    print(f"[bench supervision] {msg}", file=sys.stderr, flush=True)


def plant(session, records: int) -> None:
    """N records over 2022-2026: 80 % inspections, 5 % simple and 7 % ordinary penalties, 8 %
    patrols; each by one officer of its unit, in one of its unit's items, in a township."""
    session.execute(
        text(
            """
        CREATE TEMP TABLE bench_officer AS
            SELECT row_number() OVER (ORDER BY id) AS k, id, unit_id FROM officer;
        CREATE TEMP TABLE bench_item AS
            SELECT row_number() OVER (PARTITION BY unit_id ORDER BY id) AS k, unit_id, item_code,
                   count(*) OVER (PARTITION BY unit_id) AS n FROM power_item;
        CREATE TEMP TABLE bench_town AS SELECT row_number() OVER (ORDER BY code) AS k, code FROM township;
        """
        )
    )
    officers = session.execute(text("SELECT count(*) FROM bench_officer")).scalar_one()
    towns = session.execute(text("SELECT count(*) FROM bench_town")).scalar_one()
    session.execute(
        text(
            """
        INSERT INTO enforcement_record (kind, unit_id, township_code, item_code, officer_ids, on_date, ref)
        SELECT CASE WHEN g % 100 < 80 THEN 'inspection' WHEN g % 100 < 85 THEN 'penalty_simple'
                    WHEN g % 100 < 92 THEN 'penalty_ordinary' ELSE 'patrol' END,
               o.unit_id, t.code,
               coalesce(i.item_code, 'P-HIST'),
               ARRAY[o.id], DATE '2022-01-01' + CAST(g * 7919 % 1826 AS int), 'B-' || g
        FROM generate_series(CAST(1 AS bigint), :n) g
        JOIN bench_officer o ON o.k = 1 + (g * 31 % :officers)
        JOIN bench_town t ON t.k = 1 + (g * 17 % :towns)
        LEFT JOIN LATERAL (SELECT item_code FROM bench_item b WHERE b.unit_id = o.unit_id
                           AND b.k = 1 + (g * 13 % b.n)) i ON true
        """
        ),
        {"n": records, "officers": officers, "towns": towns},
    )
    session.execute(text("ANALYZE enforcement_record"))


def brute_force(session, period: Period) -> dict[str, dict[int, tuple[int, int]]]:
    """Four indicators by unit, counted in Python from the raw rows (no engine SQL)."""
    rows = session.execute(
        text("SELECT kind, unit_id, officer_ids FROM enforcement_record WHERE on_date >= :s AND on_date < :e"),
        {"s": period.start, "e": period.end},
    ).all()
    certified = {
        oid: unit
        for oid, unit, valid_from, valid_to in session.execute(
            text("SELECT id, unit_id, cert_valid_from, cert_valid_to FROM officer")
        ).all()
        if valid_from < period.end and valid_to >= period.start
    }
    inspections: Counter = Counter()
    penalties: Counter = Counter()
    records: Counter = Counter()
    acted: set[int] = set()
    for kind, unit, officer_ids in rows:
        records[unit] += 1
        if kind == "inspection":
            inspections[unit] += 1
        if kind.startswith("penalty_"):
            penalties[unit] += 1
        acted.update(officer_ids)
    took_part: Counter = Counter(u for o, u in certified.items() if o in acted)
    staff: Counter = Counter(certified.values())
    per_capita = {unit: (records[unit], took_part[unit]) for unit in set(records) | set(took_part)}
    return {
        "inspections": {u: (n, 0) for u, n in inspections.items()},
        "penalties": {u: (n, 0) for u, n in penalties.items()},
        "participation": {u: (took_part[u], staff[u]) for u in staff},
        "per_capita": dict(per_capita),
    }


def run(runtime, args) -> dict:
    url = bench_database(runtime)
    db.upgrade(url)
    eng = db.make_engine(url, pool_size=2)
    sessions = db.make_sessionmaker(eng)
    records = args.inspections
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=3000, seed=7)
        _log(f"planting {records:,} records over five years")
        t0 = time.perf_counter()
        plant(s, records)
        plant_s = time.perf_counter() - t0
    period = Period.parse(str(YEAR))
    with db.session_scope(sessions) as s:
        s.execute(text("SELECT count(*) FROM enforcement_record"))  # warm the cache once
        _log("every indicator, by unit and by township")
        t0 = time.perf_counter()
        by_unit = engine.figures(s, None, period, by="unit")
        unit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        by_town = engine.figures(s, None, period, by="township")
        town_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s.execute(
            text(
                "SELECT unit_id, count(*) FROM enforcement_record WHERE kind = 'inspection' "
                "AND on_date >= :s AND on_date < :e GROUP BY unit_id"
            ),
            {"s": period.start, "e": period.end},
        ).all()
        bare_s = time.perf_counter() - t0
        _log("brute-force recount")
        t0 = time.perf_counter()
        recount = brute_force(s, period)
        recount_s = time.perf_counter() - t0
        mismatches = 0
        compared = 0
        for fig in by_unit:
            truth = recount.get(fig["indicator"])
            if truth is None:
                continue
            got = {r["key"]: (r["num"], r["den"]) for r in fig["rows"] if r["num"] or r["den"]}
            want = {u: v for u, v in truth.items() if v[0] or v[1]}
            compared += len(want)
            mismatches += sum(1 for u in set(got) | set(want) if got.get(u) != want.get(u))
        units = [r["key"] for r in next(f for f in by_unit if f["indicator"] == "inspections")["rows"]]
        _log(f"{DRILLS} drill-downs")
        drills = []
        for k in range(DRILLS):
            unit = units[k % len(units)]
            t0 = time.perf_counter()
            engine.records(s, "inspections", period, by="unit", value=unit, limit=200)
            drills.append((time.perf_counter() - t0) * 1000)
    eng.dispose()
    return {
        "bench": "supervision",
        "records": records,
        "year": YEAR,
        "indicators": len(by_unit),
        "units": len(units),
        "townships": len({r["key"] for f in by_town for r in f["rows"]}),
        "plant_s": round(plant_s, 1),
        "all_indicators_by_unit_s": round(unit_s, 3),
        "all_indicators_by_township_s": round(town_s, 3),
        "baseline_bare_group_by_s": round(bare_s, 3),
        "brute_force_recount_s": round(recount_s, 3),
        "recount_groups_compared": compared,
        "mismatches": mismatches,
        "drill_p95_ms": round(statistics.quantiles(drills, n=20)[-1], 1),
        "baseline": "a bare GROUP BY of one indicator's records; a Python recount of four indicators from the raw rows",
        "target": "every indicator for one year <= 2 s; drill-down p95 <= 200 ms; 0 mismatches",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
