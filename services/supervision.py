"""Supervision's use cases (在线监督考核): indicators by scope and period, the records behind a
figure, and their export (audited: who took which records out)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.access import policy
from geo.access.accounts import Scope
from geo.infra import audit, exports
from geo.supervision import engine
from geo.supervision.indicators import all_indicators
from geo.supervision.model import Period
from services.context import Context


def catalogue(scope: Scope | None) -> list[dict[str, Any]]:
    """Every indicator: its words, formula, source and whether it is an inference."""
    policy.authorize(scope, "supervision.view")
    return [engine.describe(i) for i in all_indicators().values()]


def figures(
    ctx: Context,
    scope: Scope | None,
    *,
    period: str,
    by: str = "district",
    keys: list[str] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.view")
    p = Period.parse(period)
    with ctx.session() as session:
        rows = engine.figures(session, keys, p, by=by, units=who.unit_ids, today=today)
    return {"period": p.label(), "by": by, "scope": _scope_words(who), "indicators": rows}


def records(
    ctx: Context,
    scope: Scope | None,
    key: str,
    *,
    period: str,
    side: str = "num",
    by: str | None = None,
    value: Any = None,
    limit: int = 200,
    offset: int = 0,
    today: dt.date | None = None,
) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return engine.records(
            session,
            key,
            Period.parse(period),
            side=side,
            by=by,
            value=value,
            units=who.unit_ids,
            limit=limit,
            offset=offset,
            today=today,
        )


def export(
    ctx: Context,
    scope: Scope | None,
    key: str,
    fmt: str,
    *,
    period: str,
    side: str = "num",
    by: str | None = None,
    value: Any = None,
) -> tuple[bytes, str]:
    """Every record behind a figure as CSV or XLSX, audited; returns (body, file name)."""
    who = policy.authorize(scope, "supervision.view")
    p = Period.parse(period)
    with ctx.session() as session:
        rows = engine.records_csv_rows(session, key, p, side=side, by=by, value=value, units=who.unit_ids)
        audit.record(
            session,
            who.username,
            "supervision_export",
            subject=f"indicator:{key}",
            detail={"period": p.label(), "side": side, "by": by, "value": value, "rows": len(rows) - 2, "format": fmt},
            source=ctx.source,
        )
    name = f"{key}-{p.label()}-{side}.{fmt}"
    if fmt == "xlsx":
        return exports.xlsx_bytes(key[:31], rows), name
    return exports.csv_text(rows).encode("utf-8-sig"), name


def _scope_words(who: Scope) -> str:
    return "district" if who.unit_ids is None else ",".join(str(u) for u in sorted(who.unit_ids))
