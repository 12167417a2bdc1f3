"""lawgrid supervision: the indicators and the annual statistics from the server's console (the
operator acts with the administrator's district-wide view), through the same use cases as the
API and the cockpit."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

from lawgrid.cli.common import runtime as _runtime


def register(sub: Any) -> None:
    sup = sub.add_parser("supervision", help="supervision indicators and annual statistics")
    sup_sub = sup.add_subparsers(dest="supervision_action", required=True)
    figures = sup_sub.add_parser("figures", help="each indicator's figure for a period, one JSON line each")
    figures.add_argument("period", help="2025, 2025-Q2, 2025-05 or 2025-01-01..2025-03-31")
    figures.add_argument("--by", default="district", choices=["district", "unit", "body", "township", "officer"])
    figures.add_argument("--indicator", action="append", help="only this indicator (repeatable)")
    figures.set_defaults(handler=cmd_figures)
    stats = sup_sub.add_parser("statistics", help="the year's enforcement statistics (年度行政执法数据)")
    stats.add_argument("year", type=int)
    stats.add_argument("--out", help="write a .pdf or .xlsx file instead of printing JSON")
    stats.set_defaults(handler=cmd_statistics)


def _context():
    from geo.access import policy
    from services.context import Context

    runtime = _runtime()
    return runtime, Context(runtime, source="cli"), policy.system_scope(f"cli:{getpass.getuser()}")


def cmd_figures(args) -> int:
    from services import supervision

    _runtime_, ctx, who = _context()
    result = supervision.figures(ctx, who, period=args.period, by=args.by, keys=args.indicator)
    for ind in result["indicators"]:
        print(
            json.dumps(
                {k: ind[k] for k in ("indicator", "zh", "period", "median_of_units", "rows")}, ensure_ascii=False
            )
        )
    return 0


def cmd_statistics(args) -> int:
    from services import supervision

    runtime, ctx, who = _context()
    if not args.out:
        print(json.dumps(supervision.annual_statistics(ctx, who, args.year), ensure_ascii=False))
        return 0
    out = Path(args.out)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("pdf", "xlsx"):
        print("lawgrid: supervision: --out must end in .pdf or .xlsx", file=sys.stderr)
        return 2
    body, _name = supervision.annual_statistics(ctx, who, args.year, fmt, runtime.documents.fonts)
    out.write_bytes(body)
    print(f"wrote {out} ({len(body):,} bytes)")
    return 0
