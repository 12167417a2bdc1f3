"""The item document of CASE-PROCEDURE.md §4.3 as typed models: tiers, fines, discretion levels,
hearing, legal review, publication and check points; derived bands and the range's text."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from geo.cases.items.conditions import condition_names
from geo.cases.rules import PENALTY_KINDS

LEVELS = ("不予", "减轻", "从轻", "一般", "从重")
BANDED = ("从轻", "一般", "从重")
SPLIT = (Decimal("0.3"), Decimal("0.7"))  # 30 % / 40 % / 30 % of the statutory range (§4.3 step 3, I)
TIANJIN_RULE_CAP_YUAN = Decimal(30_000)  # 《天津市制定规章设定罚款限额规定》: a 规章's fine for business conduct

Kind = Literal[PENALTY_KINDS]  # type: ignore[valid-type]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FloorRule(Doc):
    """Below `below_yuan` of the base the fine is a fixed range instead of a multiple
    (食品安全法 第一百二十二条: 货值金额不足一万元的，并处五万元以上十万元以下罚款)."""

    below_yuan: Decimal = Field(gt=0)
    min_yuan: Decimal = Field(ge=0)
    max_yuan: Decimal = Field(ge=0)


class Fine(Doc):
    type: Literal["none", "fixed", "multiple"]
    min_yuan: Decimal | None = Field(None, ge=0)
    max_yuan: Decimal | None = Field(None, ge=0)
    base: Slug | None = None
    base_label: str | None = None
    min_times: Decimal | None = Field(None, ge=0)
    max_times: Decimal | None = Field(None, ge=0)
    base_floor_yuan: Decimal | None = Field(
        None, ge=0, description="a base below it counts as it (不足一万元的按一万元计算)"
    )
    floor_rule: FloorRule | None = None

    @model_validator(mode="after")
    def _shape(self) -> Fine:
        if self.type == "fixed":
            if self.min_yuan is None or self.max_yuan is None or self.min_yuan > self.max_yuan:
                raise ValueError("a fixed fine has min_yuan <= max_yuan")
        if self.type == "multiple":
            if not self.base or self.min_times is None or self.max_times is None or self.min_times > self.max_times:
                raise ValueError("a multiple fine names its base and has min_times <= max_times")
        if self.floor_rule and self.floor_rule.min_yuan > self.floor_rule.max_yuan:
            raise ValueError("floor_rule has min_yuan <= max_yuan")
        return self

    def scale(self, floor: bool = False) -> tuple[Decimal, Decimal] | None:
        """The range bands are expressed in: yuan (fixed, or a multiple's floor rule) or times."""
        if self.type == "fixed" and not floor:
            return self.min_yuan or Decimal(0), self.max_yuan or Decimal(0)
        if self.type == "multiple":
            if floor:
                return (self.floor_rule.min_yuan, self.floor_rule.max_yuan) if self.floor_rule else None
            return self.min_times or Decimal(0), self.max_times or Decimal(0)
        return None


class Tier(Doc):
    id: Slug
    label: str = Field(min_length=1, max_length=200)
    kinds: list[Kind] = Field(default_factory=list)
    fine: Fine


class Statutory(Doc):
    orders: list[str] = Field(default_factory=list, description="责令改正 and other orders (not penalties)")
    always: list[Kind] = Field(default_factory=list)
    tiers: list[Tier] = Field(min_length=1)


class Factor(Doc):
    kind: Literal["number", "bool"]
    label: str | None = None


class Level(Doc):
    level: Literal[LEVELS]  # type: ignore[valid-type]
    when: str | None = Field(None, max_length=500)
    bands: dict[str, tuple[Decimal, Decimal]] = Field(default_factory=dict)


class Discretion(Doc):
    source: str | None = None
    factors: dict[str, Factor] = Field(default_factory=dict)
    levels: list[Level] = Field(default_factory=list)
    mitigation_lists: list[str] = Field(default_factory=list)


class Hearing(Doc):
    natural_min_yuan: Decimal | None = None
    org_min_yuan: Decimal | None = None
    kinds: list[Kind] = Field(default_factory=list)


class LegalReview(Doc):
    always: bool = False
    kinds: list[Kind] = Field(default_factory=list)
    min_yuan: Decimal | None = None


class Publication(Doc):
    gsxt: bool = False
    credit_china: bool = False
    severity_hint: Literal["minor", "general", "serious"] | None = None


class CheckPoint(Doc):
    content: str = Field(min_length=1, max_length=500)
    method: str | None = Field(None, max_length=100)


class Item(Doc):
    code: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    power_type: Slug
    domain: Slug
    basis: str | None = None
    violated_provision: str | None = None
    penalty_provision: str | None = None
    statutory: Statutory | None = None
    discretion: Discretion = Field(default_factory=Discretion)
    hearing: Hearing = Field(default_factory=Hearing)
    legal_review: LegalReview = Field(default_factory=LegalReview)
    publication: Publication = Field(default_factory=Publication)
    check_points: list[CheckPoint] = Field(default_factory=list)
    source_doc: str | None = None
    source_url: str | None = None
    verified: bool = True
    bands_derived: bool = False
    valid_from: dt.date
    valid_to: dt.date | None = None
    published_on: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if self.power_type == "penalty" and self.statutory is None:
            raise ValueError("a penalty item states its statutory tiers")
        tiers = {t.id: t for t in self.statutory.tiers} if self.statutory else {}
        if len(tiers) != len(self.statutory.tiers if self.statutory else ()):
            raise ValueError("statutory tier ids are unique")
        for level in self.discretion.levels:
            if level.when:
                names = condition_names(level.when)
                unknown = names - set(self.discretion.factors)
                if unknown:
                    raise ValueError(f"level {level.level}: when names undeclared factors {sorted(unknown)}")
            for key, (lo, hi) in level.bands.items():
                tier_id, _, part = key.partition(".")
                if tier_id not in tiers or part not in ("", "floor"):
                    raise ValueError(f"level {level.level}: band {key!r} names no tier (or tier.floor)")
                scale = tiers[tier_id].fine.scale(floor=part == "floor")
                if scale is None or not (scale[0] <= lo <= hi <= scale[1]):
                    raise ValueError(f"level {level.level}: band {key} [{lo}, {hi}] is not inside {scale}")
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is not before valid_from")
        provision = self.penalty_provision or ""
        if "天津市" in provision and ("规定》" in provision or "办法》" in provision) and self.statutory:
            # a Tianjin 政府规章 may set at most 30,000 yuan (CASE-PROCEDURE.md §2.4; inference)
            for t in self.statutory.tiers:
                if t.fine.type == "fixed" and (t.fine.max_yuan or 0) > TIANJIN_RULE_CAP_YUAN:
                    raise ValueError(f"tier {t.id}: a Tianjin 规章 sets at most {TIANJIN_RULE_CAP_YUAN} yuan")
        return self

    def tier(self, tier_id: str | None) -> Tier | None:
        if not self.statutory:
            return None
        if tier_id is None:
            return self.statutory.tiers[0]
        return next((t for t in self.statutory.tiers if t.id == tier_id), None)


# -- derived bands -----------------------------------------------------------------------------
def with_derived_bands(item: Item) -> Item:
    """Fill every banded level's missing band with the 30/40/30 split of its tier's range, and
    mark the item derived when any band was generated (§4.3 step 3)."""
    if not item.statutory:
        return item
    levels = {lv.level: lv for lv in item.discretion.levels}
    for name in BANDED:
        levels.setdefault(name, Level(level=name, when=None))
    derived = False
    for tier in item.statutory.tiers:
        for floor in (False, True):
            scale = tier.fine.scale(floor=floor)
            if scale is None or scale[0] == scale[1]:
                continue
            lo, hi = scale
            cuts = [lo, lo + (hi - lo) * SPLIT[0], lo + (hi - lo) * SPLIT[1], hi]
            key = f"{tier.id}.floor" if floor else tier.id
            for i, name in enumerate(BANDED):
                if key not in levels[name].bands:
                    levels[name].bands[key] = (_plain(cuts[i]), _plain(cuts[i + 1]))
                    derived = True
    ordered = [levels[n] for n in LEVELS if n in levels]
    discretion = item.discretion.model_copy(update={"levels": ordered})
    return item.model_copy(update={"discretion": discretion, "bands_derived": item.bands_derived or derived})


def _plain(d: Decimal) -> Decimal:
    """37000.0 -> 37000, 0.0650 -> 0.065 (never 3.7E+4)."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def content_hash(item: Item) -> str:
    body = item.model_dump(mode="json", exclude={"valid_to"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def range_text(fine: Fine) -> str:
    """The tier's statutory fine as a reader writes it: "10000–100000 元", "违法所得 0–5 倍"."""
    if fine.type == "none":
        return "不设罚款"
    if fine.type == "fixed":
        return f"{_plain(fine.min_yuan or Decimal(0))}–{_plain(fine.max_yuan or Decimal(0))} 元"
    lo, hi = _plain(fine.min_times or Decimal(0)), _plain(fine.max_times or Decimal(0))
    text_ = f"{fine.base_label or fine.base} {lo}–{hi} 倍"
    if fine.base_floor_yuan:
        text_ += f"（不足 {_plain(fine.base_floor_yuan)} 元按 {_plain(fine.base_floor_yuan)} 元计）"
    if fine.floor_rule:
        f = fine.floor_rule
        text_ += f"；不足 {_plain(f.below_yuan)} 元的 {_plain(f.min_yuan)}–{_plain(f.max_yuan)} 元"
    return text_


def summary(item: Item) -> dict[str, Any]:
    """What the case file shows of an item: its provisions, tiers (ids the proposal names) and factors."""
    return {
        "code": item.code,
        "version": item.version,
        "name": item.name,
        "violated_provision": item.violated_provision,
        "penalty_provision": item.penalty_provision,
        "verified": item.verified,
        "bands_derived": item.bands_derived,
        "tiers": [
            {"id": t.id, "label": t.label, "kinds": t.kinds, "fine": range_text(t.fine), "base": t.fine.base}
            for t in (item.statutory.tiers if item.statutory else [])
        ],
        "factors": {k: f.label or k for k, f in item.discretion.factors.items()},
        "source": item.discretion.source,
    }
