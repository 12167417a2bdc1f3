"""The typed requests of case filing and of the simple procedure: the penalty, the party, a new
case (立案) and an on-the-spot decision (当场处罚), each field checked and named when bad."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo.cases import discretion
from geo.cases.rules import (
    PENALTY_KINDS,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Note = Field(None, max_length=2000)


class Penalty(Body):
    kinds: list[Literal[PENALTY_KINDS]] = Field(min_length=1, max_length=6)  # type: ignore[valid-type]
    fine_yuan: Decimal = Field(Decimal(0), ge=0, le=10**10, max_digits=14, decimal_places=2)
    confiscation_yuan: Decimal = Field(Decimal(0), ge=0, le=10**10, max_digits=14, decimal_places=2)
    tier: str | None = Field(None, max_length=40, description="the item's statutory tier (defaults to its first)")
    base_yuan: Decimal | None = Field(
        None, ge=0, le=10**12, max_digits=16, decimal_places=2, description="计罚基数: 违法所得, 货值金额, 工程造价…"
    )
    circumstances: dict[Literal[discretion.CIRCUMSTANCE_KEYS], bool] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="statutory circumstances recorded (处罚法 第三十至三十三条、第四十九条)"
    )
    factors: dict[str, Decimal | bool] = Field(
        default_factory=dict, max_length=20, description="the item's discretion factors (经营额, 危害后果…)"
    )
    reduced: bool = Field(False, description="减轻: chosen on a ground of 第三十二条")

    @model_validator(mode="after")
    def _fine_matches(self) -> Penalty:
        if ("fine" in self.kinds) != (self.fine_yuan > 0):
            raise ValueError("a fine is listed in kinds exactly when fine_yuan is above zero")
        return self

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kinds": list(self.kinds),
            "fine_yuan": float(self.fine_yuan),
            "confiscation_yuan": float(self.confiscation_yuan),
        }
        if self.tier:
            out["tier"] = self.tier
        if self.base_yuan is not None:
            out["base_yuan"] = float(self.base_yuan)
        if self.circumstances:
            out["circumstances"] = dict(self.circumstances)
        if self.factors:
            out["factors"] = {k: v if isinstance(v, bool) else float(v) for k, v in self.factors.items()}
        if self.reduced:
            out["reduced"] = True
        return out


class Party(Body):
    kind: Literal["natural", "legal", "other"]
    name: str = Field(min_length=1, max_length=200)
    id_no: str | None = Field(None, max_length=40, description="credit code or identity number")
    address: str | None = Field(None, max_length=300)


# -- filing (立案) and the simple procedure -------------------------------------------------
class NewCase(Body):
    source_id: int = Field(ge=1)
    item_code: str = Field(min_length=1, max_length=64)
    officer_ids: list[int] = Field(min_length=2, max_length=10, description="two or more certified officers")
    party: Party | None = Field(None, description="defaults to the source's target")
    facts: str = Field("", max_length=5000)
    act_on: dt.date | None = Field(
        None, description="the day the act occurred: the law in force then applies (Art. 37)"
    )
    act_continues: bool = Field(False, description="the act continues: its date is the day it was found")
    act_continues_reason: str | None = Field(None, max_length=500, description="why the act counts as continuing")
    act_ended_on: dt.date | None = Field(None, description="the day the act ended (limitation, Art. 36)")
    grave_interest: bool = Field(False, description="the act concerns citizens' life, health or financial safety")
    harmful_consequences: bool = Field(False, description="and had harmful consequences (five-year limitation)")
    major: bool = Field(False, description="情节复杂或者重大违法: collective discussion and legal review")
    legal_review_reason: str | None = Field(None, max_length=500, description="重大公共利益, 疑难复杂, ...")
    version: int | None = None

    @model_validator(mode="after")
    def _act_date(self) -> NewCase:
        if self.act_on is None and not (self.act_continues and self.act_continues_reason):
            raise ValueError("act_on: the day the act occurred, or act_continues with its reason")
        return self


class OnsiteCase(Body):
    target_id: int | None = Field(None, ge=1)
    party: Party | None = None
    unit_id: int | None = Field(None, ge=1, description="defaults to the officers' unit")
    item_code: str = Field(min_length=1, max_length=64)
    officer_ids: list[int] = Field(min_length=2, max_length=10)
    facts: str = Field(min_length=1, max_length=5000)
    penalty: Penalty
    rights_told: bool = Field(description="告知 and 陈述申辩 recorded on the spot (程序规定 第六十九条)")
    statement: str | None = Note
    decision_no: str | None = Field(
        None, max_length=60, description="a number of the officer's own block (a decision numbered offline)"
    )
    client_key: str | None = Field(
        None, max_length=80, description="a terminal's retry key: one case however often sent"
    )
