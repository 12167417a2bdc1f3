"""The discretion check (裁量, CASE-PROCEDURE.md §4.3 steps 1–5) of a penalty proposal against
its codified item: the level from the recorded circumstances, the band of that level for the
statutory tier, and the verdict — `ok` inside the band, `needs_reason` outside it but inside the
statutory range (or wherever the law asks for a written reason: 减轻, mitigating and aggravating
weighed together, an unrecorded factor, an item whose range is not verified), `unlawful` outside
the statutory range (which blocks the decision; the database holds the same bound, 0018).

Pure: no database. Tianjin's rules of use (§2.4): no circumstance → 一般; any one 从轻 or 从重
circumstance suffices; 减轻 needs all of the item's conditions (or a ground of 第三十二条 and the
officer's choice); both directions → weighed with a reason. Bounds are inclusive, so a boundary
amount fits either neighbouring band (程序规定 第八十四条 "以上/以下" include the figure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from geo.cases.items.conditions import condition_names, evaluate
from geo.cases.items.model import Fine, Item
from geo.cases.rules import RULES, SIMPLE_FINE_NATURAL_YUAN, SIMPLE_FINE_ORG_YUAN, hearing_right

Effect = Literal["exempt", "may_exempt", "mitigate", "may_mitigate", "aggravate"]

# 行政处罚法 第三十至三十三条、第四十九条 (1996 numbering differs; these are the 2021 articles)
CIRCUMSTANCES: dict[str, tuple[Effect, str, str]] = {
    "minor_corrected": (
        "exempt",
        "违法行为轻微并及时改正，没有造成危害后果（第三十三条第一款）",
        "minor, corrected, no harm",
    ),
    "no_fault": ("exempt", "有证据足以证明没有主观过错（第三十三条第二款）", "no fault proven"),
    "under_14": ("exempt", "不满十四周岁（第三十条）", "under 14"),
    "first_minor": ("may_exempt", "初次违法且危害后果轻微并及时改正（第三十三条第一款）", "first, minor, corrected"),
    "minor_14_18": ("mitigate", "已满十四周岁不满十八周岁（第三十条）", "aged 14 to 18"),
    "eliminated_harm": ("mitigate", "主动消除或者减轻违法行为危害后果（第三十二条（一））", "removed the harm"),
    "coerced": ("mitigate", "受他人胁迫或者诱骗实施违法行为（第三十二条（二））", "coerced or deceived"),
    "confessed": ("mitigate", "主动供述行政机关尚未掌握的违法行为（第三十二条（三））", "confessed unknown acts"),
    "meritorious": ("mitigate", "配合查处违法行为有立功表现（第三十二条（四））", "meritorious cooperation"),
    "limited_capacity": ("may_mitigate", "尚未完全丧失辨认或者控制能力（第三十一条）", "limited capacity"),
    "emergency": ("aggravate", "突发事件期间违反应对措施（第四十九条）", "during an emergency"),
    "repeat_offence": (
        "aggravate",
        "一年内因同一种违法行为受过行政处罚（裁量基准常见从重情形）",
        "repeated within a year",
    ),
}
CIRCUMSTANCE_KEYS = tuple(CIRCUMSTANCES)


@dataclass
class Verdict:
    item: str
    version: int
    tier: str | None
    level: str
    verdict: Literal["ok", "needs_reason", "unlawful"]
    statutory_yuan: tuple[Decimal, Decimal] | None = None
    band_yuan: tuple[Decimal, Decimal] | None = None
    bands_derived: bool = False
    circumstances: list[str] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    hearing_right: bool = False
    legal_review: bool = False
    simple_allowed: bool = False

    def flag(self, rule: str, severity: Literal["needs_reason", "unlawful"], **detail: Any) -> None:
        zh, en = RULES[rule]
        self.reasons.append({"rule": rule, "zh": zh, "en": en, **detail})
        if severity == "unlawful" or self.verdict == "ok":
            self.verdict = severity

    @property
    def unlawful_rules(self) -> list[dict[str, Any]]:
        return [r for r in self.reasons if r["rule"] in UNLAWFUL]

    def as_json(self) -> dict[str, Any]:
        def span(v: tuple[Decimal, Decimal] | None) -> list[float] | None:
            return [float(v[0]), float(v[1])] if v else None

        return {
            "item": self.item,
            "version": self.version,
            "tier": self.tier,
            "level": self.level,
            "verdict": self.verdict,
            "statutory_yuan": span(self.statutory_yuan),
            "band_yuan": span(self.band_yuan),
            "bands_derived": self.bands_derived,
            "circumstances": self.circumstances,
            "reasons": self.reasons,
            "hearing_right": self.hearing_right,
            "legal_review": self.legal_review,
            "simple_allowed": self.simple_allowed,
        }


UNLAWFUL = {"statutory_tier", "statutory_base", "statutory_range", "statutory_kind", "discretion_exempt"}


def statutory_range(fine: Fine, base: Decimal | None) -> tuple[tuple[Decimal, Decimal] | None, bool]:
    """The tier's range in yuan, and whether the floor rule applies; None when a multiple's
    base is missing. The same arithmetic as the database's lawgrid_fine_range (0018)."""
    if fine.type == "none":
        return (Decimal(0), Decimal(0)), False
    if fine.type == "fixed":
        return (fine.min_yuan or Decimal(0), fine.max_yuan or Decimal(0)), False
    if base is None:
        return None, False
    if fine.floor_rule and base < fine.floor_rule.below_yuan:
        return (fine.floor_rule.min_yuan, fine.floor_rule.max_yuan), True
    counted = _counted(fine, base)
    return (counted * (fine.min_times or 0), counted * (fine.max_times or 0)), False


def check(item: Item, penalty: dict[str, Any], party_kind: str) -> Verdict:
    """Judge `penalty` ({kinds, fine_yuan, tier, base_yuan, circumstances, factors, reduced})."""
    tier = item.tier(penalty.get("tier"))
    fine = Decimal(str(penalty.get("fine_yuan") or 0))
    kinds = set(penalty.get("kinds") or ())
    present = [k for k, on in (penalty.get("circumstances") or {}).items() if on and k in CIRCUMSTANCES]
    verdict = Verdict(item.code, item.version, tier.id if tier else penalty.get("tier"), "一般", "ok")
    verdict.circumstances = present
    verdict.bands_derived = item.bands_derived
    _guards(verdict, item, penalty, kinds, fine, party_kind)
    if tier is None:
        verdict.flag("statutory_tier", "unlawful", tier=penalty.get("tier"))
        return verdict
    base = penalty.get("base_yuan")
    statutory, floor = statutory_range(tier.fine, Decimal(str(base)) if base is not None else None)
    if statutory is None:
        verdict.flag("statutory_base", "unlawful", base=tier.fine.base_label or tier.fine.base)
        return verdict
    verdict.statutory_yuan = statutory
    allowed = set(item.statutory.always if item.statutory else ()) | set(tier.kinds)
    if tier.fine.type != "none":
        allowed.add("fine")
    if kinds - allowed:
        verdict.flag("statutory_kind", "unlawful", kinds=sorted(kinds - allowed), allowed=sorted(allowed))

    level, missing = _level(item, penalty, present)
    verdict.level = level
    lo, hi = statutory
    if fine > hi or (fine < lo and not (level == "减轻" and fine > 0)):
        verdict.flag("statutory_range", "unlawful", fine_yuan=float(fine), range_yuan=[float(lo), float(hi)])
    effects = {CIRCUMSTANCES[k][0] for k in present}
    if level == "不予":
        rule_severity: Literal["needs_reason", "unlawful"] = "unlawful" if "exempt" in effects else "needs_reason"
        if kinds:
            verdict.flag("discretion_exempt", rule_severity)
        return verdict
    if level == "减轻":
        verdict.band_yuan = (Decimal(0), lo)
        verdict.flag("discretion_reduced", "needs_reason")
    elif level == "weighed":
        verdict.band_yuan = statutory
        verdict.flag("discretion_weighed", "needs_reason")
    else:
        band = _band(item, tier.id, level, floor)
        if band is not None:
            scale = Decimal(1) if (tier.fine.type == "fixed" or floor) else _counted(tier.fine, base)
            verdict.band_yuan = (band[0] * scale, band[1] * scale)
            if not verdict.band_yuan[0] <= fine <= verdict.band_yuan[1] and verdict.verdict != "unlawful":
                verdict.flag("discretion_band", "needs_reason", band_yuan=[float(b) for b in verdict.band_yuan])
    if missing:
        verdict.flag("discretion_factors", "needs_reason", factors=sorted(missing))
    if not item.verified:
        verdict.flag("item_unverified", "needs_reason")
    return verdict


def _counted(fine: Fine, base: Any) -> Decimal:
    return max(Decimal(str(base)), fine.base_floor_yuan or Decimal(0))


def _level(item: Item, penalty: dict[str, Any], present: list[str]) -> tuple[str, set[str]]:
    """§4.3 step 2. Returns the level and the item factors its conditions needed but lacked."""
    effects = {CIRCUMSTANCES[k][0] for k in present}
    factors = {
        k: (Decimal(str(v)) if not isinstance(v, bool) else v) for k, v in (penalty.get("factors") or {}).items()
    }
    holds: dict[str, bool] = {}
    missing: set[str] = set()
    for lv in item.discretion.levels:
        if lv.when:
            result = evaluate(lv.when, factors)
            if result is None:
                missing |= condition_names(lv.when) - set(factors)
            holds[lv.level] = holds.get(lv.level, False) or bool(result)
    if effects & {"exempt", "may_exempt"}:
        return "不予", missing
    reduced = bool(penalty.get("reduced"))
    if holds.get("减轻") or (reduced and effects & {"mitigate", "may_mitigate"}):
        return "减轻", missing
    mitigating = bool(effects & {"mitigate", "may_mitigate"}) or holds.get("从轻", False)
    aggravating = "aggravate" in effects or holds.get("从重", False)
    if mitigating and aggravating:
        return "weighed", missing
    if mitigating:
        return "从轻", missing
    if aggravating:
        return "从重", missing
    return "一般", missing


def _band(item: Item, tier_id: str, level: str, floor: bool) -> tuple[Decimal, Decimal] | None:
    key = f"{tier_id}.floor" if floor else tier_id
    for lv in item.discretion.levels:
        if lv.level == level and key in lv.bands:
            return lv.bands[key]
    return None


def _guards(verdict: Verdict, item: Item, penalty: dict[str, Any], kinds: set[str], fine: Decimal, party: str) -> None:
    """§4.3 step 5: the hearing right, the legal review and whether the simple procedure fits."""
    verdict.hearing_right = hearing_right(penalty, party, item.hearing.model_dump(mode="json"))
    r = item.legal_review
    verdict.legal_review = r.always or bool(kinds & set(r.kinds)) or (r.min_yuan is not None and fine >= r.min_yuan)
    cap = SIMPLE_FINE_NATURAL_YUAN if party == "natural" else SIMPLE_FINE_ORG_YUAN
    verdict.simple_allowed = kinds <= {"warning", "fine"} and fine <= cap
