"""The engine reproduces the district's published figures to the last digit (issue 35, item 2),
from records shaped like the published facts, in a database of their own (the district counts
are the whole database's); each figure opens to exactly the records it counts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from demo import published
from geo.infra import db
from geo.places.reference import load_reference
from geo.supervision import engine as supervision
from geo.supervision import statistics
from geo.supervision.model import Period
from lawgrid.runtime import REFERENCE_DIR


@pytest.fixture(scope="module")
def facts(databases):
    url = databases.fresh("lawgrid_published")
    db.upgrade(url)
    eng = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(eng)) as s:
        load_reference(s, REFERENCE_DIR)
        teda = published.plant_teda_2024(s)
        binhai = published.plant_binhai(s)
    yield eng, teda, binhai
    eng.dispose()


def figure(eng, key, period, *, units=None, by="district"):
    with db.session_scope(db.make_sessionmaker(eng)) as s:
        (out,) = supervision.figures(s, [key], Period.parse(period), units=units, by=by, today=dt.date(2026, 12, 8))
    return out


def test_teda_2024_participation_performance_and_per_capita(facts):
    eng, teda, _ = facts
    part = figure(eng, "participation", "2024", units=frozenset({teda}))
    assert (part["rows"][0]["num"], part["rows"][0]["den"], part["rows"][0]["value"]) == (265, 288, 92.01)
    perf = figure(eng, "performance", "2024", units=frozenset({teda}))
    assert (perf["rows"][0]["num"], perf["rows"][0]["den"], perf["rows"][0]["value"]) == (682, 884, 77.15)
    per = figure(eng, "per_capita", "2024", units=frozenset({teda}))
    row = per["rows"][0]
    assert (row["num"], row["den"]) == (1488, 265) and round(row["value"]) == 6
    assert per["inference"] and "推断" in per["inference"]  # the page says the formula is inferred


def test_binhai_2023_per_capita_and_participation(facts):
    eng, _, binhai = facts
    per = figure(eng, "per_capita", "2023", units=frozenset({binhai["unit"]}))
    row = per["rows"][0]
    assert (row["num"], row["den"], row["value"]) == (52693, 2841, 18.5)
    part = figure(eng, "participation", "2023", units=frozenset({binhai["unit"]}))
    assert part["rows"][0]["value"] == 100.0


def test_binhai_2025_annual_counts(facts):
    eng, _, _ = facts
    counts = {
        k: figure(eng, k, "2025")["rows"][0]["value"]
        for k in ("bodies", "officers", "inspections", "penalties", "penalties_simple", "penalties_ordinary")
    }
    assert counts == {
        "bodies": 104,
        "officers": 2767 + 288 + 30,  # Binhai's 2767, with this database's TEDA and 海滨街 officers
        "inspections": 41308,
        "penalties": 4905,
        "penalties_simple": 1486,
        "penalties_ordinary": 3419,
    }


def test_binhai_2022_reconsideration_rates(facts):
    eng, _, _ = facts
    corrected = figure(eng, "reconsideration_correction", "2022")["rows"][0]
    settled = figure(eng, "reconsideration_settled", "2022")["rows"][0]
    assert (corrected["num"], corrected["den"], corrected["value"]) == (41, 377, 10.88)
    assert (settled["num"], settled["den"], settled["value"]) == (119, 377, 31.56)


def test_haibin_2025_certification(facts):
    eng, _, binhai = facts
    cert = figure(eng, "certification", "2025", by="township")
    row = next(r for r in cert["rows"] if r["key"] == published.HAIBIN)
    assert (row["num"], row["den"], row["value"]) == (30, 32, 93.75)


def test_every_figure_opens_to_exactly_its_records(facts):
    """The list a figure opens to has as many records as the figure counts, on both sides."""
    eng, teda, _ = facts
    units = frozenset({teda})
    with db.session_scope(db.make_sessionmaker(eng)) as s:
        for key in ("participation", "performance", "per_capita"):
            (fig,) = supervision.figures(s, [key], Period.parse("2024"), units=units)
            row = fig["rows"][0]
            num = supervision.records(s, key, Period.parse("2024"), side="num", units=units, limit=1)
            den = supervision.records(s, key, Period.parse("2024"), side="den", units=units, limit=1)
            assert (num["total"], den["total"]) == (row["num"], row["den"]), key
        # the list of officers who did not take part: the 23 of TEDA's 288
        absent = supervision.records(s, "participation", Period.parse("2024"), side="all", units=units, limit=1000)
        assert sum(1 for r in absent["records"] if r["num"] == 0) == 23
        # another unit's scope sees none of TEDA's records
        other = s.execute(text("SELECT id FROM enforcement_unit WHERE code = 'BH-HAIBIN'")).scalar_one()
        assert supervision.records(s, "per_capita", Period.parse("2024"), units=frozenset({other}))["total"] == 0


def test_previous_period_and_the_median_of_units(facts):
    eng, teda, _ = facts
    per = figure(eng, "inspections", "2024", units=frozenset({teda}))
    assert per["previous_period"] == "2023" and per["rows"][0]["previous"] is None  # TEDA had none in 2023
    part = figure(eng, "participation", "2024")
    assert part["median_of_units"] is not None


def test_annual_statistics_equal_the_indicators_and_print(facts, tmp_path):
    """Binhai 2025's published table from the same figures, as a PDF in Chinese and an XLSX."""
    import subprocess

    from tests import casework

    eng, _, binhai = facts
    with db.session_scope(db.make_sessionmaker(eng)) as s:
        stats = statistics.annual(s, 2025, frozenset({binhai["unit"]}))
        table = {r["item"]: r["value"] for r in stats["rows"]}
        assert table["行政检查次数"] == 41308 and table["行政处罚件数"] == 4905
        assert table["简易程序处罚"] == 1486 and table["普通程序处罚"] == 3419 and table["执法主体数"] == 104
        old = {r["item"]: r["value"] for r in statistics.annual(s, 2022, frozenset({binhai["unit"]}))["rows"]}
        assert old["行政复议决定"] == 377 and old["　其中撤销"] == 12 and old["　其中终止"] == 119
    pdf = statistics.pdf(casework.kit().fonts, stats, "滨海新区")
    (tmp_path / "s.pdf").write_bytes(pdf)
    words = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "滨海新区 2025 年度行政执法数据" in words and "41,308" in words and "4,905" in words


def test_the_trend_adds_up_to_the_year(facts):
    eng, teda, _ = facts
    with db.session_scope(db.make_sessionmaker(eng)) as s:
        months = supervision.trend(s, "inspections", Period.parse("2024"), units=frozenset({teda}))
    assert [m["month"] for m in months][:2] == ["2024-01", "2024-02"] and len(months) == 12
    assert sum(m["value"] for m in months) == 1233
