"""The discretion check (CASE-PROCEDURE.md §4.3) table-driven from published bands: the
台安县 无照经营 table (§2.4, [S14]) and the food-licence table ([S15]), boundaries included, plus
a derived-band item and the statutory grounds of 行政处罚法 第三十至三十三条. Pure: the bundled
item documents, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from geo.cases import discretion
from geo.cases.items import conditions, loading, model


@pytest.fixture(scope="module")
def bundled() -> dict[str, model.Item]:
    docs = loading.read_file(loading.SEED_FILE)
    out = {}
    for _line, doc in docs:
        assert isinstance(doc, dict)
        item = model.with_derived_bands(model.Item.model_validate(doc))
        out[item.code] = item
    return out


UNLICENSED = "market_regulation.06"  # 台安县 table: 拒不改正 1万–10万 (从轻 ≤3.7万, 一般 ≤7.3万), 情节严重 10万–50万
FOOD = "market_regulation.05"  # 货值 <1万: 5万–10万 (从轻 ≤6.5万, 一般 ≤8.5万); ≥1万: 10–20 倍 (13 / 17)
OVERLIMIT = "transport.03"  # 公路安全保护条例 第六十四条: 3万元以下, derived bands 0–9000–21000–30000


def judge(bundled, code, party="legal", **penalty):
    fine = penalty.get("fine_yuan", 0)
    penalty.setdefault("kinds", ["fine"] if fine else ["warning"])
    return discretion.check(bundled[code], penalty, party)


@pytest.mark.parametrize(
    ("turnover", "harm", "fine", "level", "verdict"),
    [
        (80_000, False, 10_000, "从轻", "ok"),  # the statutory minimum opens the 从轻 band
        (80_000, False, 37_000, "从轻", "ok"),  # the band's upper boundary
        (80_000, False, 37_000.01, "从轻", "needs_reason"),  # a cent over: inside the law, outside the band
        (80_000, False, 100_000, "从轻", "needs_reason"),
        (80_000, False, 9_999, "从轻", "unlawful"),  # below the minimum without 减轻
        (80_000, False, 100_001, "从轻", "unlawful"),  # above the maximum
        (100_000, False, 37_000, "一般", "ok"),  # 10万 is 一般 ("10万元以上"), and 3.7万 fits either band
        (100_000, False, 73_000, "一般", "ok"),
        (299_999, False, 73_000.01, "一般", "needs_reason"),
        (300_000, False, 73_000, "从重", "ok"),  # 30万 is 从重, and 7.3万 fits either band
        (300_000, False, 100_000, "从重", "ok"),
        (50_000, True, 80_000, "从重", "ok"),  # harm makes it 从重 whatever the turnover
        (50_000, True, 50_000, "从重", "needs_reason"),
    ],
)
def test_the_published_unlicensed_business_table(bundled, turnover, harm, fine, level, verdict):
    v = judge(
        bundled,
        UNLICENSED,
        fine_yuan=fine,
        tier="refuse_to_correct",
        factors={"turnover_yuan": turnover, "harm": harm},
    )
    assert (v.level, v.verdict) == (level, verdict), v.reasons
    assert v.statutory_yuan == (Decimal(10_000), Decimal(100_000))
    assert not v.bands_derived  # published, not derived


@pytest.mark.parametrize(
    ("goods", "fine", "level", "verdict"),
    [
        (5_000, 65_000, "一般", "ok"),  # below 1万 of goods: the fixed floor range, 一般 band 6.5万–8.5万
        (5_000, 85_000, "一般", "ok"),
        (5_000, 50_000, "一般", "needs_reason"),
        (5_000, 49_999, "一般", "unlawful"),
        (5_000, 100_001, "一般", "unlawful"),
        (9_999.99, 65_000, "一般", "ok"),
        (10_000, 130_000, "一般", "ok"),  # at 1万 the multiple applies: 13–17 倍 = 13万–17万
        (10_000, 100_000, "一般", "needs_reason"),  # 10 倍: lawful, below the 一般 band
        (20_000, 340_000, "一般", "ok"),
        (20_000, 400_000, "一般", "needs_reason"),  # 20 倍: the maximum
        (20_000, 400_001, "一般", "unlawful"),
    ],
)
def test_the_published_food_licence_table(bundled, goods, fine, level, verdict):
    v = judge(bundled, FOOD, fine_yuan=fine, base_yuan=goods)
    assert (v.level, v.verdict) == (level, verdict), v.reasons


def test_statutory_circumstances_set_the_level(bundled):
    mitigated = judge(bundled, FOOD, fine_yuan=60_000, base_yuan=5_000, circumstances={"eliminated_harm": True})
    assert (mitigated.level, mitigated.verdict) == ("从轻", "ok")  # 从轻 band 5万–6.5万
    aggravated = judge(bundled, FOOD, fine_yuan=90_000, base_yuan=5_000, circumstances={"repeat_offence": True})
    assert (aggravated.level, aggravated.verdict) == ("从重", "ok")
    both = judge(bundled, FOOD, fine_yuan=70_000, base_yuan=5_000, circumstances={"confessed": True, "emergency": True})
    assert (both.level, both.verdict) == ("weighed", "needs_reason")
    assert {r["rule"] for r in both.reasons} == {"discretion_weighed"}


def test_a_reduced_fine_goes_below_the_minimum_but_not_to_zero(bundled):
    base = dict(tier="refuse_to_correct", factors={"turnover_yuan": 50_000, "harm": False})
    reduced = judge(bundled, UNLICENSED, fine_yuan=5_000, circumstances={"coerced": True}, reduced=True, **base)
    assert (reduced.level, reduced.verdict) == ("减轻", "needs_reason")
    assert reduced.band_yuan == (Decimal(0), Decimal(10_000))
    not_chosen = judge(bundled, UNLICENSED, fine_yuan=5_000, circumstances={"coerced": True}, **base)
    assert (not_chosen.level, not_chosen.verdict) == ("从轻", "unlawful")  # 从轻 stays inside the range
    to_zero = judge(bundled, UNLICENSED, circumstances={"coerced": True}, reduced=True, **base)
    assert to_zero.verdict == "unlawful"  # a warning only: the fine is mandatory (并处), and warning is no kind here
    assert {r["rule"] for r in to_zero.unlawful_rules} == {"statutory_kind", "statutory_range"}


def test_grounds_for_no_penalty(bundled):
    must_not = judge(bundled, OVERLIMIT, fine_yuan=1_000, circumstances={"minor_corrected": True})
    assert (must_not.level, must_not.verdict) == ("不予", "unlawful")
    assert [r["rule"] for r in must_not.unlawful_rules] == ["discretion_exempt"]
    may_not = judge(bundled, OVERLIMIT, fine_yuan=1_000, circumstances={"first_minor": True})
    assert (may_not.level, may_not.verdict) == ("不予", "needs_reason")


def test_derived_bands_and_unrecorded_factors(bundled):
    assert bundled[OVERLIMIT].bands_derived
    assert judge(bundled, OVERLIMIT, fine_yuan=21_000).verdict == "ok"  # 一般 9000–21000
    assert judge(bundled, OVERLIMIT, fine_yuan=25_000).verdict == "needs_reason"
    assert judge(bundled, OVERLIMIT, fine_yuan=30_001).verdict == "unlawful"
    unrecorded = judge(bundled, UNLICENSED, fine_yuan=50_000, tier="refuse_to_correct")
    assert unrecorded.verdict == "needs_reason"
    assert unrecorded.reasons[-1] == {**unrecorded.reasons[-1], "rule": "discretion_factors"}
    assert unrecorded.reasons[-1]["factors"] == ["harm", "turnover_yuan"]


def test_what_the_law_does_not_provide_is_unlawful(bundled):
    no_fine_tier = judge(bundled, UNLICENSED, fine_yuan=1_000, tier="first")  # 责令改正 stage: no fine
    assert no_fine_tier.verdict == "unlawful"
    assert {r["rule"] for r in no_fine_tier.unlawful_rules} == {"statutory_kind", "statutory_range"}
    closing = judge(bundled, FOOD, fine_yuan=65_000, base_yuan=5_000, kinds=["fine", "close_down"])
    assert [r["rule"] for r in closing.unlawful_rules] == ["statutory_kind"]
    no_base = judge(bundled, FOOD, fine_yuan=65_000)
    assert [r["rule"] for r in no_base.unlawful_rules] == ["statutory_base"]
    no_tier = judge(bundled, FOOD, fine_yuan=65_000, base_yuan=5_000, tier="nonesuch")
    assert [r["rule"] for r in no_tier.unlawful_rules] == ["statutory_tier"]
    warning_only = judge(bundled, "cultural_market.03")  # 出版管理条例 第六十一条: a warning, no fine
    assert warning_only.verdict == "needs_reason"  # lawful; the item's range awaits verification
    assert [r["rule"] for r in warning_only.reasons] == ["item_unverified"]


def test_hearing_legal_review_and_simple_procedure_follow_the_item(bundled):
    closing = judge(bundled, UNLICENSED, fine_yuan=200_000, tier="serious", kinds=["fine", "close_down"])
    assert closing.hearing_right and closing.legal_review and not closing.simple_allowed
    small = judge(bundled, OVERLIMIT, party="natural", fine_yuan=200)
    assert small.simple_allowed and not small.hearing_right
    assert not judge(bundled, OVERLIMIT, party="natural", fine_yuan=200.01).simple_allowed
    assert judge(bundled, OVERLIMIT, party="natural", fine_yuan=10_000).hearing_right  # ≥ 1万 for a person


def test_bad_item_documents_are_refused_with_their_reason(bundled):
    doc = bundled[UNLICENSED].model_dump(mode="json")
    outside = {**doc, "discretion": {**doc["discretion"], "levels": [{"level": "从轻", "bands": {"serious": [1, 2]}}]}}
    with pytest.raises(ValueError, match="is not inside"):
        model.Item.model_validate(outside)
    unknown = {**doc, "discretion": {**doc["discretion"], "levels": [{"level": "从轻", "when": "profit > 1"}]}}
    with pytest.raises(ValueError, match="undeclared factors"):
        model.Item.model_validate(unknown)
    for hostile in ("__import__('os')", "turnover_yuan.real > 1", "[1][0]", "'a' < 'b'"):
        with pytest.raises(ValueError):
            conditions.parse_condition(hostile)
