"""No exported cell is a formula (OWASP CSV injection): names that begin with =, +, -, @, a
tab or a carriage return come out as text in the coverage CSV and XLSX and the plan CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from dashboard import coverage_view
from geo.infra import exports

HOSTILE = ['=HYPERLINK("http://example.invalid","x")', "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_that_would_be_a_formula_is_written_as_text(value):
    assert exports.safe_cell(value) == "'" + value
    assert exports.safe_cell("滨海=新区") == "滨海=新区" and exports.safe_cell(-3) == -3


def groups() -> list[dict]:
    return [
        {"key": str(i), "name": name, "numerator": 1, "denominator": 2, "ratio": 0.5}
        for i, name in enumerate([*HOSTILE, "塘沽街道"])
    ]


def test_coverage_csv_has_no_formula():
    text = coverage_view.export(groups(), "csv").decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    names = [r[1] for r in rows[1:]]
    assert names[:-1] == ["'" + v for v in HOSTILE] and names[-1] == "塘沽街道"
    assert not any(cell.startswith(exports.FORMULA_START) for row in rows for cell in row)


def test_coverage_xlsx_has_no_formula_cell():
    book = openpyxl.load_workbook(io.BytesIO(coverage_view.export(groups(), "xlsx")))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    got = [sheet.cell(row=r, column=2).value for r in range(2, 2 + len(HOSTILE))]
    # as typed, as text; openpyxl's writer without lxml turns a bare carriage return into a line feed
    assert all(value in (typed, typed.replace("\r", "\n")) for value, typed in zip(got, HOSTILE, strict=True)), got
    assert sheet.cell(row=2, column=5).number_format == "0.0%" and sheet.cell(row=2, column=5).value == 0.5


def test_the_plan_csv_has_no_formula(session):
    from sqlalchemy import text

    from geo.dispatch import random_plan

    plan = session.execute(
        text(
            "INSERT INTO random_plan (name, seed, share, due_at, created_by) "
            "VALUES ('=cmd|calc', 's', 0.1, now(), 't') RETURNING id"
        )
    ).scalar()
    target = session.execute(text("SELECT id, domains[1] FROM target ORDER BY id LIMIT 1")).one()
    session.execute(text("UPDATE target SET name = '@evil()' WHERE id = :t"), {"t": target[0]})
    session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, plan_id, due_at, created_by) "
            "VALUES (:t, :d, 'plan', :p, now(), 't')"
        ),
        {"t": target[0], "d": target[1], "p": plan},
    )
    rows = list(csv.reader(io.StringIO(random_plan.plan_csv(session, plan))))
    assert rows[2][1] == "'@evil()"
    # the published list names what is checked (抽查事项清单): the domain's inspection items and their points
    first = session.execute(
        text(
            "SELECT name, check_points->0->>'content' FROM enforcement_item WHERE domain_key = :d "
            "AND power_type_key = 'inspection' AND valid_to IS NULL ORDER BY code LIMIT 1"
        ),
        {"d": target[1]},
    ).one()
    assert rows[1][5] == "抽查事项（检查内容）" and rows[2][5].startswith(f"{first[0]}（{first[1]}；")
    assert not any(cell.startswith(exports.FORMULA_START) for row in rows for cell in row)
