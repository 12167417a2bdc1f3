"""lawgrid case, lawgrid calendar: a case's step as a named account, and the working-day calendar."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

from geo.infra.errors import LawGridError
from lawgrid.cli.common import runtime as _runtime


def register(sub: Any) -> None:
    case = sub.add_parser("case", help="take a step of a case as a named user; every rule applies, refusals audited")
    case.add_argument("case_id", type=int)
    case.add_argument("action", help="a step of the case procedure (geo/cases/steps/), e.g. decide")
    case.add_argument("--as", dest="as_user", required=True, help="the account taking the step")
    case.add_argument("--data", default="{}", help='the step\'s fields as a JSON object, e.g. {"kind": "penalty"}')
    case.set_defaults(handler=cmd_case)
    calendar = sub.add_parser("calendar", help="working-day calendar")
    calendar_sub = calendar.add_subparsers(dest="calendar_action", required=True)
    cal_import = calendar_sub.add_parser(
        "import", help="day,workday|holiday[,note] per line (the next year's schedule)"
    )
    cal_import.add_argument("file")
    cal_import.add_argument("--source", default="国务院办公厅节假日安排", help="where the days come from")
    cal_import.set_defaults(handler=cmd_calendar)


def cmd_case(args) -> int:
    """The same path as the API's and the pages' (geo.cases.perform), as the named account."""

    from sqlalchemy import text

    from geo.access import accounts, policy
    from geo.infra.errors import explain
    from services import cases as case_uses
    from services.context import Context

    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        print(f"lawgrid: case: --data is not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(data, dict):
        print("lawgrid: case: --data must be a JSON object", file=sys.stderr)
        return 2
    runtime = _runtime()
    with runtime.session() as session:
        uid = session.execute(text("SELECT id FROM app_user WHERE username = :u AND active"), {"u": args.as_user})
        found = uid.scalar()
        scope = accounts.scope_for(session, found) if found else None
    if scope is None:
        print(f"lawgrid: case: no active account {args.as_user!r}", file=sys.stderr)
        return 2
    try:
        case = case_uses.perform(Context(runtime), scope, args.case_id, args.action, data)
    except LawGridError as exc:
        source = f"cli:{getpass.getuser()}"
        policy.record_refusal(runtime.sessions, scope.username, exc, subject=f"cli case {args.case_id}", source=source)
        print(f"lawgrid: case: {explain(exc)} ({exc.rule or exc.code})", file=sys.stderr)
        return 1
    print(json.dumps({"id": case["id"], "status": case["status"], "version": case["version"]}))
    return 0


def cmd_calendar(args) -> int:
    """Enter the next year's schedule or override days (the operator acts as administrator on the
    server's own console); every change is audited, and deadlines on provisional days recomputed."""
    from geo.access.accounts import Scope
    from geo.cases import workdays
    from services import calendar as calendar_uses
    from services.context import Context

    runtime = _runtime()
    operator = Scope(0, f"cli:{getpass.getuser()}", "admin", None)
    result = calendar_uses.import_csv(
        Context(runtime, source="cli"), operator, Path(args.file).read_text(encoding="utf-8"), args.source
    )
    for error in result["rejected"]:
        print(f"lawgrid: calendar import: {error}", file=sys.stderr)
    with runtime.session() as session:
        first, last = workdays.known_range(session)
    print(
        json.dumps(
            {
                "imported": result["updated"],
                "rejected_lines": len(result["rejected"]),
                "known": [str(first), str(last)],
                "official_through": result.get("official_through"),
            }
        )
    )
    return 1 if result["rejected"] else 0
