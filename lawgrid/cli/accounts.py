"""lawgrid user: accounts (add, passwd, disable, enable) and the demo's accounts."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from lawgrid.cli.common import runtime as _runtime


def register(sub: Any) -> None:
    user = sub.add_parser("user", help="accounts")
    user_sub = user.add_subparsers(dest="user_action", required=True)
    add = user_sub.add_parser("add", help="create an account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument(
        "--role",
        required=True,
        help="a role: admin, operator, dispatcher, leader, supervisor, auditor, "
        "officer, legal_reviewer, case_reviewer, organ_head, hearing_officer, oversight",
    )
    add.add_argument(
        "--unit",
        action="append",
        default=[],
        metavar="CODE",
        help="enforcement unit code (dispatchers and supervisors; repeatable)",
    )
    add.add_argument("--officer", help="an officer's certificate number: links the account to him")
    add.add_argument("--qualification", help="a legal reviewer's 法律职业资格 number")
    add.set_defaults(handler=cmd_user_add)
    passwd = user_sub.add_parser("passwd", help="set a password (read from stdin); ends the user's sessions")
    passwd.add_argument("name")
    passwd.set_defaults(handler=cmd_user_change)
    for action, words in (
        ("disable", "disable an account, ending its sessions and tokens"),
        ("enable", "enable an account again"),
    ):
        sub_cmd = user_sub.add_parser(action, help=words)
        sub_cmd.add_argument("name")
        sub_cmd.set_defaults(handler=cmd_user_change)


def cmd_user_change(args) -> int:
    """lawgrid user passwd|disable|enable NAME: each ends the user's sessions and tokens."""

    from geo.access import accounts
    from geo.infra import audit

    password = None
    if args.user_action == "passwd":
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
    with _runtime().session() as session:
        if password is not None:
            accounts.change_password(session, args.name, password)
        else:
            accounts.set_active(session, args.name, args.user_action == "enable")
        audit.record(
            session, f"cli:{getpass.getuser()}", f"user_{args.user_action}", subject=f"user:{args.name}", source="cli"
        )
    print(f"{args.user_action}: {args.name} (every session and token of the account has ended)")
    return 0


def cmd_user_add(args) -> int:

    from geo.access import accounts
    from geo.infra import audit

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
    runtime = _runtime()
    try:
        with runtime.session() as session:
            accounts.create_user(
                session,
                args.name,
                password,
                args.role,
                args.unit,
                officer_cert=args.officer,
                legal_qualification_no=args.qualification,
            )
            audit.record(
                session,
                f"cli:{getpass.getuser()}",
                "user_add",
                subject=args.name,
                detail={"role": args.role, "units": args.unit},
                source="cli",
            )
    except accounts.AccountError as exc:
        print(f"lawgrid: user add: {exc}", file=sys.stderr)
        return 1
    print(f"created {args.role} {args.name}")
    return 0


def create_demo_accounts(runtime) -> list[tuple[str, str, str]]:
    """One account per role, on first run only, each able to do its role's job (the legal
    reviewer holds a 法律职业资格 number; two officers of one unit, a crew, each with his own
    account); passwords are random and shown once."""
    import secrets

    from sqlalchemy import text

    from geo.access import accounts
    from geo.infra import audit

    created = []
    with runtime.session() as session:
        # the disabled seed-* accounts that act in the demo cases are nobody's logins
        if session.execute(text("SELECT count(*) FROM app_user WHERE username NOT LIKE 'seed-%'")).scalar():
            return []
        unit = session.execute(text("SELECT code FROM enforcement_unit ORDER BY id LIMIT 1")).scalar()
        certs = list(
            session.execute(
                text(
                    "SELECT o.cert_no FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = :u "
                    "AND current_date + 180 BETWEEN o.cert_valid_from AND o.cert_valid_to "
                    "AND NOT EXISTS (SELECT 1 FROM app_user a WHERE a.officer_id = o.id) ORDER BY o.id LIMIT 2"
                ),
                {"u": unit},
            ).scalars()
        )
        logins = [(f"demo-{role}", role) for role in accounts.ROLES] + [("demo-officer2", "officer")]
        for name, role in logins:
            password = secrets.token_urlsafe(9)
            units = [unit] if role in accounts.UNIT_SCOPED_ROLES and role != "officer" else []
            extra: dict[str, str] = {}
            if role == "officer":
                extra["officer_cert"] = certs[1] if name.endswith("2") else certs[0]
            if role == "legal_reviewer":
                extra["legal_qualification_no"] = "A2023120001DEMO"  # a first legal review needs one
            accounts.create_user(session, name, password, role, units, **extra)
            audit.record(session, "demo", "user_add", subject=name, detail={"role": role})
            created.append((name, password, role))
    return created
