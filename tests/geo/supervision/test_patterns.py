"""The 第十一条 patterns (issue 35, item 3), each found in planted data and not in clean data:
quota-like penalties (以罚代管), acts outside the unit's area (违规异地执法), acts by officers
without a valid certificate; each finding lists its records and names its rule. In a year no
other test writes (2017), in a rolled-back transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from geo.supervision import engine
from geo.supervision.model import Period

YEAR = Period.parse("2017")
PATTERNS = ("quota_pattern", "out_of_area", "uncertified_acts")


def counts(session) -> dict[str, int]:
    out = {}
    for fig in engine.figures(session, list(PATTERNS), YEAR, today=dt.date(2026, 12, 8)):
        out[fig["indicator"]] = int(sum(r["num"] for r in fig["rows"]))
    return out


def town_team(session) -> tuple[int, str, str]:
    """A unit with an area, one township inside it and one outside."""
    unit, inside = session.execute(
        text(
            "SELECT unit_id, min(township_code) FROM unit_area GROUP BY unit_id HAVING count(*) = 1 ORDER BY 1 LIMIT 1"
        )
    ).one()
    outside = session.execute(text("SELECT min(code) FROM township WHERE code <> :t"), {"t": inside}).scalar_one()
    return unit, inside, outside


def officer(session, unit: int, valid_from: str, valid_to: str, tag: str) -> int:
    return session.execute(
        text(
            """INSERT INTO officer (cert_no, name, unit_id, cert_valid_from, cert_valid_to)
               VALUES (:c, :n, :u, CAST(:f AS date), CAST(:t AS date)) RETURNING id"""
        ),
        {"c": f"PAT17-{tag}", "n": f"模式{tag}", "u": unit, "f": valid_from, "t": valid_to},
    ).scalar_one()


def record(session, unit, kind, day, *, town=None, officers=(), fine=None, ref=None) -> int:
    return session.execute(
        text(
            """INSERT INTO enforcement_record (kind, unit_id, township_code, item_code, officer_ids, on_date,
                                               fine_yuan, ref)
               VALUES (:k, :u, :t, CASE WHEN :k LIKE 'penalty%' THEN 'P-17' END, CAST(:o AS int[]), :d, :f, :r)
               RETURNING id"""
        ),
        {"k": kind, "u": unit, "t": town, "o": list(officers), "d": day, "f": fine, "r": ref},
    ).scalar_one()


def test_clean_work_raises_no_finding(session):
    unit, inside, _ = town_team(session)
    certified = officer(session, unit, "2016-01-01", "2019-12-31", "ok")
    fines = [200, 5000, 800, 12000, 300, 2500, 60, 9000]  # irregular counts and amounts
    for month in range(1, 9):
        for k in range(1 + month % 4):
            record(
                session,
                unit,
                "penalty_simple",
                dt.date(2017, month, 3 + k),
                town=inside,
                officers=[certified],
                fine=fines[(month + k) % 8],
            )
        record(session, unit, "inspection", dt.date(2017, month, 20), town=inside, officers=[certified])
    assert counts(session) == {p: 0 for p in PATTERNS}


def test_each_pattern_is_found_with_its_records(session):
    unit, inside, outside = town_team(session)
    certified = officer(session, unit, "2016-01-01", "2019-12-31", "ok")
    expired = officer(session, unit, "2014-01-01", "2016-12-31", "old")
    # 2-3 penalties of 2,000-2,500 yuan every month, March to October: a quota
    quota = []
    for month in range(3, 11):
        for k in range(2 + month % 2):
            quota.append(
                record(
                    session,
                    unit,
                    "penalty_simple",
                    dt.date(2017, month, 5 + k),
                    town=inside,
                    officers=[certified],
                    fine=2000 + 100 * ((month + k) % 6),
                )
            )
    away = record(session, unit, "inspection", dt.date(2017, 6, 1), town=outside, officers=[certified])
    lapsed = record(session, unit, "inspection", dt.date(2017, 6, 2), town=inside, officers=[expired])
    assert counts(session) == {"quota_pattern": len(quota), "out_of_area": 1, "uncertified_acts": 1}
    listed = engine.records(session, "quota_pattern", YEAR, limit=100)
    assert sorted(r["id"] for r in listed["records"]) == sorted(quota) and "第十一条" in listed["source"]
    assert [r["id"] for r in engine.records(session, "out_of_area", YEAR)["records"]] == [away]
    found = engine.records(session, "uncertified_acts", YEAR, by="officer", value=expired)["records"]
    assert [(r["id"], r["officer_id"]) for r in found] == [(lapsed, expired)]
