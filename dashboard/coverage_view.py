"""What the coverage API and the leaders' page share: reading a query's window and filter
within the caller's scope, and writing a table as an audited CSV or XLSX file."""

from __future__ import annotations

import datetime as dt

from geo.access.accounts import Scope
from geo.coverage import model
from geo.infra import audit, errors, exports
from geo.infra.timezone import BEIJING

COLUMNS = ("key", "name", "numerator", "denominator", "ratio")
HEADINGS = ("编码 key", "名称 name", "已检查对象 inspected", "应检查对象 in scope", "覆盖率 coverage")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


OutOfScope = errors.NotFound


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def window_from(args) -> model.Window:
    return model.parse_window(args.get("start") or None, args.get("end") or None, args.get("period") or None, today())


def filter_from(args, scope: Scope) -> model.Filter:
    """township, domain, risk and unit (a drill-down) from the query, inside the viewer's units."""
    units = scope.unit_ids
    unit = args.get("unit")
    if unit not in (None, ""):
        if not str(unit).isdigit():
            raise model.CoverageError("unit is a unit id, e.g. 3")
        if units is not None and int(unit) not in units:
            raise OutOfScope(f"unit {unit} is not in your scope")
        units = frozenset({int(unit)})
    risk = args.get("risk")
    if risk not in (None, "") and str(risk) not in ("1", "2", "3", "4"):
        raise model.CoverageError("risk is 1, 2, 3 or 4")
    return model.Filter(
        township=args.get("township") or None,
        domain=args.get("domain") or None,
        unit_ids=units,
        risk=int(risk) if risk not in (None, "") else None,
    )


def export(groups: list[dict], fmt: str) -> bytes:
    rows = [HEADINGS, *([g[c] for c in COLUMNS] for g in groups)]
    if fmt == "csv":
        return ("\ufeff" + exports.csv_text(rows)).encode()  # the BOM lets Excel read the Chinese names
    return exports.xlsx_bytes("coverage", rows, {5: "0.0%"})


def audited_export(
    session,
    scope: Scope,
    source: str | None,
    by: str,
    window: model.Window,
    flt: model.Filter,
    groups: list[dict],
    fmt: str,
) -> tuple[bytes, str, str]:
    """(file body, mimetype, file name); the export is written to the audit trail."""
    if fmt not in MIMETYPES:
        raise model.CoverageError("format is csv or xlsx")
    body = export(groups, fmt)
    audit.record(
        session,
        scope.username,
        "coverage_export",
        subject=f"coverage:{by}",
        detail={
            "format": fmt,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "township": flt.township,
            "domain": flt.domain,
            "risk": flt.risk,
            "units": sorted(flt.unit_ids) if flt.unit_ids is not None else None,
            "rows": len(groups),
        },
        source=source,
    )
    return body, MIMETYPES[fmt], f"coverage-{by}-{window.start}-{window.end}.{fmt}"
