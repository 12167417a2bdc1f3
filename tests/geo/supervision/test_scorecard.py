"""Scorecards (issue 35, item 4): the year's scheme is data, versioned; each unit's score is
computed from it, ranked, and every point names its indicator, its figure and its records;
the annual report is a PDF in Chinese and an XLSX of the same figures. In 2016, which no other
test writes, in a rolled-back transaction."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from geo.access.accounts import Scope
from geo.infra.errors import InvalidInput
from services import supervision
from services.context import within
from tests import casework

ORGAN = Scope(user_id=0, username="t-oversight", role="oversight", unit_ids=None)
RULES = [
    {"indicator": "participation", "points": 60, "scoring": "threshold", "full_at": 100, "zero_at": 50},
    {"indicator": "uncertified_acts", "points": 40, "scoring": "deduction", "per_finding": 10},
]


def plant(session) -> tuple[int, int]:
    """Unit A: 2 officers certified in 2016, both acted. Unit B: 4 certified, 3 acted, and one
    whose certificate ended in 2015 acted too."""
    a, b = (
        session.execute(
            text(
                "INSERT INTO enforcement_unit (code, name, kind, domains) VALUES (:c, :n, 'department', '{}') "
                "RETURNING id"
            ),
            {"c": code, "n": name},
        ).scalar_one()
        for code, name in (("SC16-A", "考核甲单位"), ("SC16-B", "考核乙单位"))
    )

    def officers(unit: int, n: int, tag: str, valid_to: str = "2018-12-31") -> list[int]:
        return list(
            session.execute(
                text(
                    """INSERT INTO officer (cert_no, name, unit_id, cert_valid_from, cert_valid_to)
                       SELECT :t || g, '考核' || :t || g, :u, DATE '2014-01-01', CAST(:v AS date)
                       FROM generate_series(1, :n) g RETURNING id"""
                ),
                {"t": tag, "u": unit, "n": n, "v": valid_to},
            ).scalars()
        )

    acted = officers(a, 2, "SC16A-") + officers(b, 4, "SC16B-")[:3] + officers(b, 1, "SC16X-", "2015-06-30")
    for k, (unit, officer) in enumerate(
        [(a, acted[0]), (a, acted[1]), (b, acted[2]), (b, acted[3]), (b, acted[4]), (b, acted[5])]
    ):
        session.execute(
            text(
                "INSERT INTO enforcement_record (kind, unit_id, officer_ids, on_date) "
                "VALUES ('inspection', :u, ARRAY[:o], :d)"
            ),
            {"u": unit, "o": officer, "d": dt.date(2016, 4, 1 + k)},
        )
    return a, b


def test_scores_are_ranked_and_every_point_traceable(session):
    ctx = within(session, source="test")
    a, b = plant(session)
    first = supervision.save_scheme(ctx, ORGAN, 2016, "2016 年考核方案", RULES)
    assert first["version"] == 1
    card = supervision.scores(ctx, ORGAN, 2016)
    mine = {g["key"]: g for g in card["groups"] if g["key"] in (a, b)}
    assert (mine[a]["total"], mine[b]["total"]) == (100, 60)
    assert mine[a]["rank"] < mine[b]["rank"] and card["full_marks"] == 100
    items = {i["indicator"]: i for i in mine[b]["items"]}
    assert (items["participation"]["num"], items["participation"]["den"], items["participation"]["points"]) == (
        3,
        4,
        30,
    )
    assert (items["uncertified_acts"]["num"], items["uncertified_acts"]["points"]) == (1, 30)
    assert items["uncertified_acts"]["records"].endswith(f"period=2016&by=unit&value={b}")
    # a new version changes the score; the first stays on record
    supervision.save_scheme(ctx, ORGAN, 2016, "2016 年考核方案（修订）", [{**RULES[0], "points": 100}])
    assert supervision.scheme(ctx, ORGAN, 2016)["version"] == 2
    again = {g["key"]: g for g in supervision.scores(ctx, ORGAN, 2016)["groups"]}
    assert again[b]["total"] == 50
    versions = session.execute(text("SELECT version FROM assessment_scheme WHERE year = 2016 ORDER BY 1")).scalars()
    assert list(versions) == [1, 2]


def test_a_bad_rule_is_named(session):
    ctx = within(session, source="test")
    with pytest.raises(InvalidInput, match="rule 2"):
        supervision.save_scheme(
            ctx,
            ORGAN,
            2016,
            "x",
            [
                RULES[0],
                {"indicator": "participation_rate", "points": 5, "scoring": "threshold", "full_at": 1, "zero_at": 0},
            ],
        )
    with pytest.raises(InvalidInput, match="full_at"):
        supervision.save_scheme(
            ctx, ORGAN, 2016, "x", [{"indicator": "participation", "points": 5, "scoring": "threshold"}]
        )


def test_the_annual_report_in_chinese_and_its_figures(session, tmp_path):
    ctx = within(session, source="test")
    a, b = plant(session)
    supervision.save_scheme(ctx, ORGAN, 2016, "2016 年考核方案", RULES)
    fonts = casework.kit().fonts
    pdf, name = supervision.report(ctx, ORGAN, fonts, 2016, "pdf")
    assert pdf.startswith(b"%PDF") and name == "assessment-2016.pdf"
    (tmp_path / "r.pdf").write_bytes(pdf)
    words = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "2016 年度行政执法监督考核报告" in words and "考核乙单位" in words and "人员参与率" in words
    unit_pdf, _ = supervision.report(ctx, ORGAN, fonts, 2016, "pdf", unit_id=b)
    (tmp_path / "u.pdf").write_bytes(unit_pdf)
    unit_words = subprocess.run(
        ["pdftotext", str(tmp_path / "u.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "考核乙单位" in unit_words and "得分 60" in unit_words
    book, _ = supervision.report(ctx, ORGAN, fonts, 2016, "xlsx")
    sheet = load_workbook(io.BytesIO(book)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r[1] == "考核乙单位"]
    assert {(r[3], r[7]) for r in rows} == {("人员参与率", 30), ("无有效证件执法", 30)}
