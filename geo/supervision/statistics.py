"""Annual enforcement statistics (年度行政执法数据, published by 31 January): the counts a
government publishes about its enforcement for a year and a unit (or the district), taken
from the engine's own indicators so the published table equals the cockpit's figures, plus
复议 and litigation outcomes. A PDF in Chinese and an XLSX."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.documents.render import Fonts
from geo.infra import exports
from geo.supervision import engine
from geo.supervision.model import Period
from geo.supervision.report import start_pdf

COUNTS = ("bodies", "officers", "inspections", "penalties", "penalties_simple", "penalties_ordinary", "fines_yuan")
OUTCOMES_ZH = {
    "upheld": "维持",
    "terminated": "终止",
    "dismissed": "驳回",
    "revoked": "撤销",
    "altered": "变更",
    "confirmed_unlawful": "确认违法",
    "ordered_to_act": "责令履行",
    "mediated": "调解",
    "withdrawn": "撤回",
}


def annual(session: Session, year: int, units: frozenset[int] | None = None) -> dict[str, Any]:
    period = Period.parse(str(year))
    figures = {f["indicator"]: f for f in engine.figures(session, list(COUNTS), period, units=units)}
    rows: list[tuple[str, Any]] = []
    for key in COUNTS:
        fig = figures[key]
        value = fig["rows"][0]["value"] if fig["rows"] else 0
        rows.append((fig["zh"], int(value or 0)))
    params = {"s": period.start, "e": period.end, "u": sorted(units) if units is not None else None}
    scoped = "(CAST(:u AS int[]) IS NULL OR unit_id = ANY(CAST(:u AS int[])))"
    outcomes: dict[str, int] = dict(
        session.execute(
            text(
                f"""SELECT outcome, count(*) FROM reconsideration
                    WHERE decided_on >= :s AND decided_on < :e AND {scoped} GROUP BY outcome"""
            ),
            params,
        ).all()
    )
    decided = sum(outcomes.values())
    rows.append(("行政复议决定", decided))
    rows += [(f"　其中{OUTCOMES_ZH[k]}", outcomes[k]) for k in OUTCOMES_ZH if outcomes.get(k)]
    litigation = session.execute(
        text(f"SELECT count(*) FROM litigation WHERE filed_on >= :s AND filed_on < :e AND {scoped}"), params
    ).scalar_one()
    rows.append(("行政诉讼（立案）", litigation))
    return {"year": year, "rows": [{"item": k, "value": v} for k, v in rows]}


def pdf(fonts: Fonts, stats: dict[str, Any], scope_name: str) -> bytes:
    doc = start_pdf(fonts, f"{scope_name} {stats['year']} 年度行政执法数据")
    doc.set_font("cjk", size=10)
    with doc.table(col_widths=(110, 50), text_align=("LEFT", "RIGHT"), first_row_as_headings=False) as table:
        for row in stats["rows"]:
            line = table.row()
            line.cell(row["item"])
            line.cell(f"{row['value']:,}")
    return bytes(doc.output())


def xlsx(stats: dict[str, Any]) -> bytes:
    return exports.xlsx_bytes(
        f"{stats['year']}年度数据", [["项目", "数值"], *[[r["item"], r["value"]] for r in stats["rows"]]]
    )
