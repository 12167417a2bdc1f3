"""Scorecards (考核): a year's assessment scheme is data (each rule: an indicator, its points,
and how they are earned), and each unit's or township's score is computed from the engine's
figures, so every point names its indicator, its figure and the records behind it.

Rules:
- "threshold": full points at or beyond `full_at`, none at or beyond `zero_at` the other way,
  linear between (for an indicator where lower is better, `full_at` < `zero_at`);
- "deduction": the points less `per_finding` for each record the indicator counts (有案不立,
  违规异地执法 …), never below zero."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra import errors
from geo.supervision import engine
from geo.supervision.indicators import all_indicators
from geo.supervision.model import Period

MAX_RULES = 50


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(min_length=1, max_length=64)
    points: float = Field(gt=0, le=100)
    scoring: str = Field(pattern="^(threshold|deduction)$")
    full_at: float | None = None
    zero_at: float | None = None
    per_finding: float | None = Field(None, gt=0, le=100)

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.indicator not in all_indicators():
            raise ValueError(f"no indicator {self.indicator!r}")
        if self.scoring == "threshold" and (
            self.full_at is None or self.zero_at is None or self.full_at == self.zero_at
        ):
            raise ValueError(f"{self.indicator}: a threshold rule needs full_at and zero_at, and they must differ")
        if self.scoring == "deduction" and self.per_finding is None:
            raise ValueError(f"{self.indicator}: a deduction rule needs per_finding")
        return self


def parse_rules(rules: Any) -> list[Rule]:
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        raise errors.InvalidInput(f"rules must be a list of 1 to {MAX_RULES} rules", rule="scheme")
    out = []
    for n, rule in enumerate(rules, start=1):
        try:
            out.append(Rule.model_validate(rule))
        except ValueError as exc:
            first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
            raise errors.InvalidInput(f"rule {n}: {first['msg']}", rule="scheme") from None
    if len({r.indicator for r in out}) != len(out):
        raise errors.InvalidInput("each indicator at most once in a scheme", rule="scheme")
    return out


def save_scheme(session: Session, actor: str, year: int, name: str, rules: Any) -> dict[str, Any]:
    """A new version of the year's scheme (the earlier ones stay)."""
    parsed = parse_rules(rules)
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('assessment_scheme'), :y)"), {"y": year})
    version = session.execute(
        text("SELECT coalesce(max(version), 0) + 1 FROM assessment_scheme WHERE year = :y"), {"y": year}
    ).scalar_one()
    session.execute(
        text(
            """INSERT INTO assessment_scheme (year, version, name, rules, created_by)
               VALUES (:y, :v, :n, CAST(:r AS jsonb), :by)"""
        ),
        {"y": year, "v": version, "n": name, "r": json.dumps([r.model_dump() for r in parsed]), "by": actor},
    )
    return scheme(session, year)


def scheme(session: Session, year: int, version: int | None = None) -> dict[str, Any]:
    row = (
        session.execute(
            text(
                """SELECT year, version, name, rules, created_by, created_at FROM assessment_scheme
                   WHERE year = :y AND (CAST(:v AS int) IS NULL OR version = :v) ORDER BY version DESC LIMIT 1"""
            ),
            {"y": year, "v": version},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"no assessment scheme for {year}", zh=f"{year} 年尚未制定考核方案")
    return {**dict(row), "created_at": row["created_at"].isoformat()}


def points(rule: Rule, value: float | None, num: int) -> float:
    if rule.scoring == "deduction":
        return max(0.0, rule.points - (rule.per_finding or 0) * num)
    if value is None:
        return 0.0
    full, zero = float(rule.full_at or 0), float(rule.zero_at or 0)
    share = (value - zero) / (full - zero)  # 1 at full_at, 0 at zero_at, whichever way is better
    return round(rule.points * min(1.0, max(0.0, share)), 2)


def scores(
    session: Session, year: int, *, by: str = "unit", units: frozenset[int] | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Every group's score under the year's latest scheme, ranked; each point with its rule, its
    figure and where its records are."""
    sch = scheme(session, year)
    rules = [Rule.model_validate(r) for r in sch["rules"]]
    period = Period.parse(str(year))
    names = engine.group_names(session, by)
    groups: dict[Any, dict[str, Any]] = {}
    for rule in rules:
        (fig,) = engine.figures(session, [rule.indicator], period, by=by, units=units, today=today)
        for row in fig["rows"]:
            if row["key"] is None:
                continue
            g = groups.setdefault(
                row["key"], {"key": row["key"], "name": names.get(str(row["key"]), str(row["key"])), "items": []}
            )
            g["items"].append(
                {
                    "indicator": rule.indicator,
                    "zh": fig["zh"],
                    "value": row["value"],
                    "num": row["num"],
                    "den": row["den"],
                    "points": points(rule, row["value"], row["num"]),
                    "max": rule.points,
                    "records": f"/api/supervision/indicators/{rule.indicator}/records?period={year}&by={by}"
                    f"&value={row['key']}",
                }
            )
    full = sum(r.points for r in rules)
    ranked = []
    for g in groups.values():
        have = {i["indicator"] for i in g["items"]}
        for rule in rules:  # a group with no record of an indicator: a deduction rule keeps its points
            if rule.indicator not in have:
                g["items"].append(
                    {
                        "indicator": rule.indicator,
                        "zh": all_indicators()[rule.indicator].zh,
                        "value": None,
                        "num": 0,
                        "den": 0,
                        "points": rule.points if rule.scoring == "deduction" else 0.0,
                        "max": rule.points,
                        "records": None,
                    }
                )
        g["total"] = round(sum(i["points"] for i in g["items"]), 2)
        ranked.append(g)
    ranked.sort(key=lambda g: (-g["total"], str(g["key"])))
    for rank, g in enumerate(ranked, start=1):
        g["rank"] = rank
    return {
        "year": year,
        "scheme": {k: sch[k] for k in ("version", "name")},
        "full_marks": full,
        "by": by,
        "groups": ranked,
    }
