"""Supervision's use cases (在线监督考核): indicators by scope and period, the records behind a
figure, and their export (audited: who took which records out)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.infra import audit, exports, timezone
from geo.infra.errors import NotFound
from geo.supervision import cases, engine, file_reviews, scorecard, statistics
from geo.supervision import report as report_files
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


# Supervision cases (监督案件) -----------------------------------------------------------------
def _today() -> dt.date:
    return timezone.today()


def _case_in_scope(session: Session, who: Scope, case_id: int, today: dt.date) -> dict[str, Any]:
    case = cases.view(session, case_id, today)
    if who.unit_ids is not None and case["unit_id"] not in who.unit_ids:
        raise NotFound(f"no supervision case {case_id}")  # outside the scope looks the same as absent
    return case


def open_case(ctx: Context, scope: Scope | None, *, today: dt.date | None = None, **fields: Any) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.manage")
    day = today or _today()
    with ctx.session() as session:
        case = cases.open_case(session, who.username, today=day, **fields)
        audit.record(
            session,
            who.username,
            "supervision_open",
            subject=f"supervision:{case['id']}",
            detail={k: fields.get(k) for k in ("unit_id", "lead_kind", "lead_ref", "case_id")},
            source=ctx.source,
        )
    return case


def take_step(
    ctx: Context,
    scope: Scope | None,
    case_id: int,
    *,
    kind: str,
    note: str,
    due_on: dt.date | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.manage")
    day = today or _today()
    with ctx.session() as session:
        case = cases.take_step(session, who.username, case_id, kind=kind, note=note, due_on=due_on, today=day)
        audit.record(
            session,
            who.username,
            f"supervision_{kind}",
            subject=f"supervision:{case_id}",
            detail={"due_on": due_on.isoformat() if due_on else None, "status": case["status"]},
            source=ctx.source,
        )
    return case


def reply(
    ctx: Context, scope: Scope | None, case_id: int, *, accepted: bool, note: str, today: dt.date | None = None
) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.reply")
    day = today or _today()
    with ctx.session() as session:
        _case_in_scope(session, who, case_id, day)
        case = cases.reply(session, who.username, case_id, accepted=accepted, note=note, today=day)
        audit.record(
            session,
            who.username,
            "supervision_reply",
            subject=f"supervision:{case_id}",
            detail={"accepted": accepted},
            source=ctx.source,
        )
    return case


def case(ctx: Context, scope: Scope | None, case_id: int, today: dt.date | None = None) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return _case_in_scope(session, who, case_id, today or _today())


def case_list(ctx: Context, scope: Scope | None, status: str | None = None) -> list[dict[str, Any]]:
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return cases.listing(session, who.unit_ids, _today(), status)


def record_measure(ctx: Context, scope: Scope | None, officer_id: int, **fields: Any) -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.manage")
    with ctx.session() as session:
        measure = cases.record_measure(session, who.username, officer_id=officer_id, **fields)
        audit.record(
            session,
            who.username,
            f"officer_{measure['kind']}",
            subject=f"officer:{officer_id}",
            detail={k: v for k, v in measure.items() if k != "id"},
            source=ctx.source,
        )
    return measure


# Scorecards (考核) --------------------------------------------------------------------------------
def save_scheme(ctx: Context, scope: Scope | None, year: int, name: str, rules: Any) -> dict[str, Any]:
    """A new version of the year's assessment scheme (oversight only; audited)."""
    who = policy.authorize(scope, "supervision.manage")
    with ctx.session() as session:
        saved = scorecard.save_scheme(session, who.username, year, name, rules)
        audit.record(
            session,
            who.username,
            "assessment_scheme",
            subject=f"scheme:{year}",
            detail={"version": saved["version"], "rules": len(saved["rules"])},
            source=ctx.source,
        )
    return saved


def scheme(ctx: Context, scope: Scope | None, year: int) -> dict[str, Any]:
    policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return scorecard.scheme(session, year)


def scores(ctx: Context, scope: Scope | None, year: int, by: str = "unit") -> dict[str, Any]:
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return scorecard.scores(session, year, by=by, units=who.unit_ids)


def report(
    ctx: Context, scope: Scope | None, kit_fonts: Any, year: int, fmt: str, unit_id: int | None = None
) -> tuple[bytes, str]:
    """The year's assessment report: the district's (or, with unit_id, one unit's) as PDF, or the
    figures as XLSX; audited."""
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        card = scorecard.scores(session, year, by="unit", units=who.unit_ids)
        audit.record(
            session,
            who.username,
            "assessment_report",
            subject=f"scheme:{year}",
            detail={"format": fmt, "unit_id": unit_id},
            source=ctx.source,
        )
    if fmt == "xlsx":
        return report_files.xlsx(card), f"assessment-{year}.xlsx"
    if unit_id is not None:
        group = next((g for g in card["groups"] if g["key"] == unit_id), None)
        if group is None:
            raise NotFound(f"no score for unit {unit_id} in {year}")
        return report_files.unit_pdf(kit_fonts, card, group), f"assessment-{year}-unit-{unit_id}.pdf"
    return report_files.district_pdf(kit_fonts, card), f"assessment-{year}.pdf"


def annual_statistics(ctx: Context, scope: Scope | None, year: int, fmt: str = "json", kit_fonts: Any = None) -> Any:
    """The year's enforcement statistics (年度行政执法数据) in your scope: JSON, PDF or XLSX."""
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        stats = statistics.annual(session, year, who.unit_ids)
        names = engine.group_names(session, "unit")
        if fmt != "json":
            audit.record(
                session,
                who.username,
                "annual_statistics",
                subject=f"year:{year}",
                detail={"format": fmt},
                source=ctx.source,
            )
    if fmt == "json":
        return stats
    scope_name = (
        "滨海新区" if who.unit_ids is None else "、".join(names.get(str(u), str(u)) for u in sorted(who.unit_ids))
    )
    if fmt == "xlsx":
        return statistics.xlsx(stats), f"statistics-{year}.xlsx"
    return statistics.pdf(kit_fonts, stats, scope_name), f"statistics-{year}.pdf"


def trend(ctx: Context, scope: Scope | None, key: str, *, period: str) -> list[dict[str, Any]]:
    """The indicator month by month across the period, in your scope."""
    who = policy.authorize(scope, "supervision.view")
    with ctx.session() as session:
        return engine.trend(session, key, Period.parse(period), units=who.unit_ids)


# 案卷评查 -----------------------------------------------------------------------------------------
def draw_files(ctx: Context, scope: Scope | None, unit_id: int, *, period: str, n: int, seed: str) -> dict[str, Any]:
    """Draw a unit's decided case files for review, reproducibly from the published seed (audited)."""
    who = policy.authorize(scope, "supervision.manage")
    p = Period.parse(period)
    with ctx.session() as session:
        files = file_reviews.draw(session, unit_id, p.start, p.end, n, seed)
        audit.record(
            session,
            who.username,
            "file_review_draw",
            subject=f"unit:{unit_id}",
            detail={"period": p.label(), "n": n, "seed": seed, "drawn": [f["id"] for f in files]},
            source=ctx.source,
        )
    return {"unit_id": unit_id, "period": p.label(), "seed": seed, "files": files, "checklist": file_reviews.CHECKLIST}


def review_file(
    ctx: Context,
    scope: Scope | None,
    case_id: int,
    checks: Any,
    *,
    note: str | None = None,
    seed: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Score one case file against the checklist (audited); below the pass mark it is a lead."""
    who = policy.authorize(scope, "supervision.manage")
    with ctx.session() as session:
        result = file_reviews.record(
            session, who.username, case_id, checks, note=note, seed=seed, today=today or _today()
        )
        audit.record(
            session,
            who.username,
            "file_review",
            subject=f"case:{case_id}",
            detail={"score": result["score"], "failed": result["failed_items"]},
            source=ctx.source,
        )
    return result
