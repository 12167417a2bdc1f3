"""Records shaped like Binhai's published enforcement figures (issue 35): the platform's
history as the earlier platform would hand it over (enforcement records, the staff roster,
复议 outcomes), for the tests that reproduce the published figures to the last digit and for
the demo's supervision pages. Written with set-based SQL; deterministic.

The figures (INSPECTIONS-AND-SUPERVISION.md §5, CASE-PROCEDURE.md §2.7):
- TEDA 2024: 288 certified officers, 265 took part (参与率 92.01 %); 884 power-list items, 682
  exercised (履职率 77.15 %); 1488 records, 1233 inspections and 249 penalties among them
  (人均执法量 ≈ 6).
- Binhai 2023: 2841 certified officers, all took part; 24639 inspections, 7386 penalties (2638
  simple, 4748 ordinary), 18254 区域巡查, 803 现场规范, 1611 教育改正 (人均执法量 18.5).
- Binhai 2025: 104 bodies, 2767 certified officers, 41308 inspections, 4905 penalties (1486
  simple, 3419 ordinary).
- Binhai 2022 复议: 377 decided: 维持 154, 终止 119, 驳回 63, 撤销 12, 确认违法 23, 责令履行 6
  (纠错率 10.88 %, 调撤率 31.56 %).
- 海滨街 2025: 32 enforcement staff, 30 certified (持证率 93.75 %)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

HAIBIN = "120116054"  # 海滨街道 (NBS code); the reference data names it


def _unit(session: Session, code: str, name: str, kind: str, township: str | None) -> int:
    return session.execute(
        text(
            """INSERT INTO enforcement_unit (code, name, kind, township_code, domains)
               VALUES (:c, :n, :k, :t, ARRAY['market_regulation']) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
               RETURNING id"""
        ),
        {"c": code, "n": name, "k": kind, "t": township},
    ).scalar_one()


def _officers(session: Session, unit_id: int, prefix: str, n: int, valid_from: str, valid_to: str) -> list[int]:
    return list(
        session.execute(
            text(
                """INSERT INTO officer (cert_no, name, unit_id, cert_valid_from, cert_valid_to)
                   SELECT :p || lpad(g::text, 5, '0'), '执法人员' || :p || g, :u, CAST(:f AS date), CAST(:t AS date)
                   FROM generate_series(1, :n) g RETURNING id"""
            ),
            {"p": prefix, "u": unit_id, "n": n, "f": valid_from, "t": valid_to},
        ).scalars()
    )


def _records(
    session: Session, unit_id: int, kind: str, n: int, year: int, officers: list[int], items: list[str] | None = None
) -> None:
    """n records of a kind spread over the year's days, round-robin over the officers (two each)
    and the items; penalties carry an item (a penalty always names one)."""
    if n <= 0:
        return
    session.execute(
        text(
            """INSERT INTO enforcement_record (kind, unit_id, item_code, officer_ids, on_date, ref)
               SELECT :k, :u,
                      CASE WHEN cardinality(CAST(:items AS text[])) > 0
                           THEN (CAST(:items AS text[]))[1 + (g - 1) % cardinality(CAST(:items AS text[]))]
                           WHEN :k LIKE 'penalty%' THEN 'P-HIST' END,
                      ARRAY[(CAST(:o AS int[]))[1 + (g - 1) % cardinality(CAST(:o AS int[]))]],
                      make_date(:y, 1, 1) + ((g * 7) % (make_date(:y + 1, 1, 1) - make_date(:y, 1, 1))),
                      :k || '-' || :y || '-' || g
               FROM generate_series(1, :n) g"""
        ),
        {"k": kind, "u": unit_id, "n": n, "y": year, "o": officers, "items": items or []},
    )


def plant_teda_2024(session: Session) -> int:
    """The TEDA unit's 2024 (a unit of its own: 泰达); returns its id."""
    unit = _unit(session, "TEDA-PUB", "天津经济技术开发区（泰达）", "department", None)
    officers = _officers(session, unit, "TEDA", 288, "2022-01-01", "2027-12-31")
    items = [f"TEDA-{k:04d}" for k in range(1, 885)]
    session.execute(
        text(
            """INSERT INTO power_item (unit_id, domain_key, power_type_key, item_code, item_name, legal_basis)
               SELECT :u, 'market_regulation', 'inspection', c, '权责事项 ' || c, '（公开的权责清单）'
               FROM unnest(CAST(:items AS text[])) c"""
        ),
        {"u": unit, "items": items},
    )
    took_part, exercised = officers[:265], items[:682]
    # 1488 records: 1233 inspections, 249 penalties and 6 others, over 265 officers and 682 items
    _records(session, unit, "inspection", 1233, 2024, took_part, exercised)
    _records(session, unit, "penalty_ordinary", 249, 2024, took_part[::-1], exercised[::-1])
    _records(session, unit, "patrol", 6, 2024, took_part, exercised)
    return unit


def plant_binhai(session: Session) -> dict[str, Any]:
    """Binhai's 2023 and 2025 records and its 2022 复议, over one unit per kind of record (the
    counts are the district's, whatever unit holds them); 104 bodies; 海滨街's 2025 roster."""
    unit = _unit(session, "BH-PUB", "滨海新区（归集记录）", "department", None)
    town = _unit(session, "BH-HAIBIN", "海滨街道综合执法队", "town_team", HAIBIN)
    session.execute(
        text(
            """INSERT INTO enforcement_body (code, name, kind, unit_id)
               SELECT 'BH-B' || lpad(g::text, 3, '0'), '执法主体 ' || g, 'organ', :u FROM generate_series(1, 104) g"""
        ),
        {"u": unit},
    )
    staying = _officers(session, unit, "BH", 2767, "2020-01-01", "2030-12-31")
    leaving = _officers(session, unit, "BHX", 74, "2020-01-01", "2024-06-30")
    everyone = staying + leaving  # 2841 certified in 2023
    for kind, n in (
        ("inspection", 24639),
        ("penalty_simple", 2638),
        ("penalty_ordinary", 4748),
        ("patrol", 18254),
        ("onsite_correction", 803),
        ("education", 1611),
    ):
        _records(session, unit, kind, n, 2023, everyone)
    for kind, n in (("inspection", 41308), ("penalty_simple", 1486), ("penalty_ordinary", 3419)):
        _records(session, unit, kind, n, 2025, staying)
    outcomes = {
        "upheld": 154,
        "terminated": 119,
        "dismissed": 63,
        "revoked": 12,
        "confirmed_unlawful": 23,
        "ordered_to_act": 6,
    }
    for outcome, n in outcomes.items():
        session.execute(
            text(
                """INSERT INTO reconsideration (unit_id, ref, received_on, decided_on, outcome)
                   SELECT :u, '复议-2022-' || :o || '-' || g, DATE '2022-01-03' + (g % 300),
                          DATE '2022-02-01' + (g % 300), :o FROM generate_series(1, :n) g"""
            ),
            {"u": unit, "o": outcome, "n": n},
        )
    # 海滨街: 32 on the enforcement roster in 2025, 30 of them certified on 2025-12-31
    certified = _officers(session, town, "HB", 30, "2021-01-01", "2028-12-31")
    session.execute(
        text(
            """INSERT INTO staff_member (unit_id, name, officer_id, on_roster_from)
               SELECT :u, '海滨街执法人员' || k, o, DATE '2021-01-01'
               FROM unnest(CAST(:o AS int[])) WITH ORDINALITY AS x(o, k)
               UNION ALL SELECT :u, '海滨街协管人员' || g, NULL, DATE '2024-03-01' FROM generate_series(1, 2) g"""
        ),
        {"u": town, "o": certified},
    )
    return {"unit": unit, "town": town}
