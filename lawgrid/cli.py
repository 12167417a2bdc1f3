"""The `lawgrid` command line."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.infra.errors import LawGridError
from geo.infra.timezone import today as beijing_today
from lawgrid.embedded_db import EmbeddedCluster, EmbeddedDbError
from lawgrid.settings import load_settings

# Per-benchmark defaults for the options they share.
BENCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "seed": {"targets": 1_000_000},
    "ingest": {"devices": 5000, "rate": 2.0, "duration": 60.0},
    "push": {"devices": 3000, "rate": 1.0, "duration": 30.0, "clients": 1},
    "map": {"targets": 1_000_000},
    "dispatch": {"targets": 100_000},
    "coverage": {"targets": 1_000_000},
    "screens": {"clients": 500},
    "cases": {"targets": 20_000},
    "documents": {},
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from geo.infra import audit

    audit.use_source(f"cli:{getpass.getuser()}@{socket.gethostname()}")
    try:
        return args.handler(args) or 0
    except EmbeddedDbError as exc:
        print(f"lawgrid: database: {exc}", file=sys.stderr)
        return 1
    except LawGridError as exc:  # the core refused: say why, as the API would
        print(f"lawgrid: {args.command}: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lawgrid", description=__doc__)
    sub = parser.add_subparsers(dest="command")

    db_cmd = sub.add_parser("db", help="the database: embedded cluster or LAWGRID_DATABASE_URL")
    db_cmd.add_argument("action", choices=["start", "stop", "status", "url", "upgrade"])
    db_cmd.set_defaults(handler=cmd_db)

    seed = sub.add_parser("seed", help="replace the registry with a synthetic one")
    seed.add_argument("--targets", type=int, default=50_000)
    seed.add_argument(
        "--inspections", type=int, default=0, help="also a year of completed inspections (coverage history)"
    )
    seed.add_argument("--officers", type=int, default=3_000)
    seed.add_argument("--seed", type=int, default=2026)
    seed.set_defaults(handler=cmd_seed)

    imp = sub.add_parser(
        "import", help="import townships, targets, officers, devices or codified enforcement items from a file"
    )
    imp.add_argument("kind", choices=["townships", "targets", "officers", "devices", "items"])
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=FIELD", help="map a file column to a field (repeatable)"
    )
    imp.add_argument("--gcj02", action="store_true", help="coordinates are GCJ-02 (AutoNavi/Tencent)")
    imp.add_argument("--rejects", type=Path, help="where to write rejected rows (default FILE.rejects.csv)")
    imp.set_defaults(handler=cmd_import)

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
    case = sub.add_parser("case", help="take a step of a case as a named user; every rule applies, refusals audited")
    case.add_argument("case_id", type=int)
    case.add_argument("action", help="a step of geo.cases.ACTIONS, e.g. decide")
    case.add_argument("--as", dest="as_user", required=True, help="the account taking the step")
    case.add_argument("--data", default="{}", help='the step\'s fields as a JSON object, e.g. {"kind": "penalty"}')
    case.set_defaults(handler=cmd_case)
    verify = sub.add_parser(
        "verify-document", help="is a PDF intact since the organ sealed it, and who sealed and signed it"
    )
    verify.add_argument("file", type=Path)
    verify.add_argument("--offline", action="store_true", help="without the database: intact or not, trust unknown")
    verify.set_defaults(handler=cmd_verify_document)
    seal_cmd = sub.add_parser("seal", help="the enforcement bodies' seal certificates")
    seal_cmd.add_argument("action", choices=["init"], help="init: a certificate for every body that has none")
    seal_cmd.set_defaults(handler=cmd_seal)
    calendar = sub.add_parser("calendar", help="working-day calendar")
    calendar_sub = calendar.add_subparsers(dest="calendar_action", required=True)
    cal_import = calendar_sub.add_parser(
        "import", help="day,workday|holiday[,note] per line (the next year's schedule)"
    )
    cal_import.add_argument("file")
    cal_import.add_argument("--source", default="国务院办公厅节假日安排", help="where the days come from")
    cal_import.set_defaults(handler=cmd_calendar)
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

    serve = sub.add_parser("serve", help="web dashboard, REST API, Socket.IO and device listeners")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-ingest", action="store_true", help="do not start the device listeners")
    serve.set_defaults(handler=cmd_serve)

    ingest = sub.add_parser("ingest", help="device listeners only (JT/T 808 on 5015, OsmAnd on 5055)")
    ingest.add_argument(
        "--processes",
        type=int,
        default=None,
        help="listener processes on the same ports (default: one per core, up to 4)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    sim = sub.add_parser("simulate", help="drive registered devices over the real protocols")
    sim.add_argument("--devices", type=int, default=100)
    sim.add_argument("--rate", type=float, default=1.0, help="fixes per second per device")
    sim.add_argument("--protocol", choices=["jt808", "osmand", "mixed"], default="mixed")
    sim.add_argument("--duration", type=float, default=60.0, help="seconds")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--jt808-port", type=int, default=None)
    sim.add_argument("--osmand-port", type=int, default=None)
    sim.add_argument("--seed", type=int, default=1)
    sim.set_defaults(handler=cmd_simulate)

    demo = sub.add_parser("demo", help="embedded database, Binhai data, synthetic registry, dashboard")
    demo.add_argument("--targets", type=int, default=50_000)
    demo.add_argument("--inspections", type=int, default=100_000, help="a year of history for 覆盖率")
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)
    demo.add_argument("--simulate-devices", type=int, default=600)
    demo.add_argument("--no-simulator", action="store_true")
    demo.set_defaults(handler=cmd_demo)

    bench = sub.add_parser("bench", help="measure a capability; prints one JSON line last")
    bench.add_argument("name", choices=list(BENCH_DEFAULTS))
    bench.add_argument("--targets", type=int, help="seed, map (default 1,000,000), dispatch (100,000)")
    bench.add_argument("--officers", type=int, default=10_000, help="dispatch")
    bench.add_argument("--tasks", type=int, default=1_000, help="dispatch")
    bench.add_argument("--inspections", type=int, default=5_000_000, help="coverage")
    bench.add_argument("--seed", type=int, default=7, help="seed")
    bench.add_argument("--cases", type=int, default=100_000, help="cases: open cases")
    bench.add_argument("--devices", type=int, help="ingest (default 5000), push (3000)")
    bench.add_argument("--rate", type=float, help="ingest (2), push (1): fixes per second per device")
    bench.add_argument("--duration", type=float, help="ingest (60), push (30): seconds")
    bench.add_argument("--processes", type=int, default=2, help="ingest: load-generator processes")
    bench.add_argument(
        "--listeners",
        type=int,
        default=None,
        help="ingest: `lawgrid ingest` listener processes on the port (SO_REUSEPORT; default: one per core, up to 4)",
    )
    bench.add_argument("--clients", type=int, help="push (default 1), screens (500): logged-in dashboards")
    bench.add_argument(
        "--protocol",
        choices=["jt808", "osmand"],
        default="osmand",
        help="ingest (JT/T 808 times have one-second resolution: 1 Hz at most)",
    )
    bench.set_defaults(handler=cmd_bench)
    return parser


def cmd_db(args) -> int:
    settings = load_settings()
    if settings.database_url:
        from lawgrid.embedded_db import normalise_url

        url = normalise_url(settings.database_url)
        if args.action == "url":
            print(url)
        elif args.action == "upgrade":
            _upgrade_and_load_reference(settings)
        else:
            print(f"LAWGRID_DATABASE_URL is set: '{args.action}' applies only to the embedded cluster")
            return 0 if args.action == "status" else 2
        return 0
    cluster = EmbeddedCluster(settings.resolved_data_dir)
    if cluster.paths.note:
        print(f"note: {cluster.paths.note}", file=sys.stderr)
    if args.action == "start":
        print(cluster.start())
    elif args.action == "stop":
        cluster.stop()
        print("stopped")
    elif args.action == "status":
        print(f"{cluster.status()} ({cluster.paths.pgdata})")
        return 0 if cluster.running() else 3
    elif args.action == "url":
        print(cluster.url())
    elif args.action == "upgrade":
        cluster.start()
        _upgrade_and_load_reference(settings)
    return 0


def _upgrade_and_load_reference(settings) -> None:
    """Migrate to the newest schema as the owner, grant the app role what it needs, then load
    the Binhai reference data if missing."""
    from geo.infra import db
    from lawgrid.runtime import database_urls, open_runtime

    owner, app = database_urls(settings)
    runtime = open_runtime(settings, owner=True)  # migrates and grants
    print("database schema is at", db.head_revision())
    if app != owner:
        from sqlalchemy.engine import make_url

        print(f"the web and ingest processes connect as role {make_url(app).username} (no ownership)")
    loaded = ensure_reference(runtime)
    print("reference data:", json.dumps(loaded, ensure_ascii=False))


def _runtime(owner: bool = False):
    """The app role's connection; owner=True for maintenance (seed, imports, benchmarks)."""
    from lawgrid.runtime import open_runtime

    return open_runtime(load_settings(), owner=owner)


def ensure_reference(runtime) -> dict:
    from geo.places.reference import load_reference
    from lawgrid.runtime import REFERENCE_DIR

    with runtime.session() as session:
        return load_reference(session, REFERENCE_DIR)


def cmd_seed(args) -> int:
    from ingest.seed import seed_all

    runtime = _runtime(owner=True)
    ensure_reference(runtime)
    with runtime.session() as session:
        summary = seed_all(
            session, targets=args.targets, officers=args.officers, seed=args.seed, inspections=args.inspections
        )
    summary["cases"] = seed_demo_cases(runtime)
    summary["seals"] = make_seals(runtime)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def seed_demo_cases(runtime, n: int = 60) -> dict:
    """Cases in every state (some near and past their deadlines). The working days past the
    package's last year are entered as weekends only, marked as demo data, until an
    administrator enters the State Council's schedule (`lawgrid calendar import`)."""
    import datetime as dt

    from geo.cases import workdays
    from ingest.seed_cases import seed_cases

    with runtime.session() as session:
        workdays.extend_provisional(session, beijing_today() + dt.timedelta(days=400), source="demo: weekends only")
        return seed_cases(session, n)


def cmd_case(args) -> int:
    """The same path as the API's and the pages' (geo.cases.perform), as the named account."""
    import getpass

    from sqlalchemy import text

    from geo.access import accounts, policy
    from geo.cases import machine
    from geo.infra.errors import explain

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
        with runtime.session() as session:
            case = machine.perform(session, scope, args.case_id, args.action, data)
    except LawGridError as exc:
        source = f"cli:{getpass.getuser()}"
        policy.record_refusal(runtime.sessions, scope.username, exc, subject=f"cli case {args.case_id}", source=source)
        print(f"lawgrid: case: {explain(exc)} ({exc.rule or exc.code})", file=sys.stderr)
        return 1
    print(json.dumps({"id": case["id"], "status": case["status"], "version": case["version"]}))
    return 0


def cmd_verify_document(args) -> int:
    """Exit 0 when intact and sealed by this installation's authority, 1 otherwise."""
    from geo.documents import reading

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.offline:
        result = reading.verify_file(None, data)
    else:
        with _runtime().session() as session:
            result = reading.verify_file(session, data)
    for sig in result["signatures"]:
        state = "intact" if sig.get("intact") and sig.get("covers_whole_file") else "NOT INTACT"
        trust = "trusted" if sig.get("trusted") else "not trusted here"
        print(f"{sig['field']}: {state}, {trust}; signed by {sig.get('signer', '?')} at {sig.get('signed_at', '?')}")
    known = result.get("document")
    if known:
        print(f"LawGrid document {known['id']} {known['doc_no'] or ''} ({known['template_code']}, {known['status']})")
    verdict = "INTACT" if result["intact"] and (args.offline or result["trusted"]) else "FAILED"
    print(f"{verdict}: {result.get('problem', 'the file is as the organ sealed it')}")
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if verdict == "INTACT" and not (known and known["status"] == "voided") else 1


def cmd_seal(args) -> int:
    print(f"seal certificates: {make_seals(_runtime())} made")
    return 0


def make_seals(runtime) -> int:
    """The set-up's step: a seal certificate for every enforcement body that has none."""
    from geo.documents import seal

    with runtime.session() as session:
        return seal.ensure_all(session, runtime.documents.passphrase)


def cmd_calendar(args) -> int:
    """Enter the next year's schedule or override days; every change is audited."""
    import getpass
    from pathlib import Path

    from geo.cases import workdays

    runtime = _runtime()
    days, errors = workdays.parse_csv(Path(args.file).read_text(encoding="utf-8"))
    for error in errors:
        print(f"lawgrid: calendar import: {error}", file=sys.stderr)
    with runtime.session() as session:
        n = workdays.set_days(session, days, f"cli:{getpass.getuser()}", args.source)
        first, last = workdays.known_range(session)
    print(json.dumps({"imported": n, "rejected_lines": len(errors), "known": [str(first), str(last)]}))
    return 1 if errors else 0


def cmd_import(args) -> int:
    import getpass

    from geo.cases.items import loading
    from geo.infra import audit
    from ingest import registry
    from ingest.tables import ImportFileError

    mapping = {}
    for pair in args.map:
        if "=" not in pair:
            print(f"lawgrid: --map expects COLUMN=FIELD, got {pair!r}", file=sys.stderr)
            return 2
        column, field = pair.split("=", 1)
        mapping[column] = field
    runtime = _runtime(owner=True)
    ensure_reference(runtime)
    actor = f"cli:{getpass.getuser()}"
    importers: dict[str, Callable[..., Any]] = {
        # codified items: YAML documents or an XLSX row per version, each bad one reported by line
        "items": lambda session, path, rejects_path, **_: loading.import_items(session, path, actor, rejects_path),
        "targets": registry.import_targets,
        "officers": registry.import_officers,
        "devices": registry.import_devices,
        "townships": registry.import_townships,
    }
    importer = importers[args.kind]
    kwargs = dict(mapping=mapping, rejects_path=args.rejects)
    if args.kind in ("targets", "townships"):
        kwargs["gcj02"] = args.gcj02
    try:
        with runtime.session() as session:
            report = importer(session, args.file, **kwargs)
            audit.record(
                session,
                actor,
                f"import_{args.kind}",
                subject=str(args.file.resolve()),
                detail=report.as_dict(),
                source="cli",
            )
    except (ImportFileError, LawGridError) as exc:
        print(f"lawgrid: import {args.kind}: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def cmd_user_change(args) -> int:
    """lawgrid user passwd|disable|enable NAME: each ends the user's sessions and tokens."""
    import getpass

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
    import getpass

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
    """One account per role, on first run only; passwords are random and shown once."""
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
        cert = session.execute(
            text(
                "SELECT o.cert_no FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = :u "
                "AND current_date BETWEEN o.cert_valid_from AND o.cert_valid_to "
                "AND NOT EXISTS (SELECT 1 FROM app_user a WHERE a.officer_id = o.id) ORDER BY o.id LIMIT 1"
            ),
            {"u": unit},
        ).scalar()
        for role in accounts.ROLES:
            password = secrets.token_urlsafe(9)
            units = [unit] if role in accounts.UNIT_SCOPED_ROLES and role != "officer" else []
            extra = {"officer_cert": cert} if role == "officer" else {}
            accounts.create_user(session, f"demo-{role}", password, role, units, **extra)
            audit.record(session, "demo", "user_add", subject=f"demo-{role}", detail={"role": role})
            created.append((f"demo-{role}", password, role))
    return created


def write_private(path, text: str) -> None:
    """A file only its owner can read (0600 from its creation, never world-readable)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def cmd_serve(args) -> int:
    from lawgrid.app import create_app

    settings = load_settings()
    app = create_app(settings, with_ingest=not args.no_ingest)
    _run_web(app, args.host or settings.host, args.port or settings.port)
    return 0


def _run_web(app, host: str, port: int) -> None:
    import logging

    socketio = app.server.extensions["socketio"]
    if not app.server.extensions["lawgrid"].settings.access_log:  # a line per request buries the rest
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"LawGrid dashboard at http://{host}:{port}", flush=True)
    # Werkzeug serves the demo and tests; production runs gunicorn (see Dockerfile).
    socketio.run(app.server, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


def cmd_ingest(args) -> int:
    import asyncio
    import os
    import signal

    from ingest.service import IngestConfig, IngestService
    from lawgrid import ingest_procs
    from lawgrid.runtime import open_runtime

    s = load_settings()
    processes = args.processes if args.processes is not None else s.ingest_processes
    processes = processes if processes > 0 else ingest_procs.auto_processes(os.cpu_count())
    if s.ingest_worker is None and processes > 1:
        if 0 in (s.jt808_port, s.osmand_port):
            raise SystemExit(
                "lawgrid ingest: several processes share fixed ports; set LAWGRID_JT808_PORT and LAWGRID_OSMAND_PORT"
            )
        open_runtime(s).engine.dispose()  # migrations once, here (and the embedded cluster started)
        return ingest_procs.Supervisor(processes, redis_url=s.redis_url).run()
    runtime = open_runtime(s, migrate=s.ingest_worker is None)
    config = IngestConfig.from_runtime(runtime)
    on_commit = on_states = on_arrivals = None
    if s.redis_url:  # reach the browsers of every web process through the message queue
        from lawgrid.app import queue_push

        push = queue_push(s, runtime)
        on_commit, on_states, on_arrivals = push.on_commit, push.on_states, push.on_arrivals

    async def main():
        service = IngestService(
            config, runtime.sessions, on_commit=on_commit, on_states=on_states, on_arrivals=on_arrivals
        )
        await service.start()
        mqtt = f", MQTT from {config.mqtt_url.split('@')[-1]}" if config.mqtt_url else ""
        print(f"listening: JT/T 808 on {service.jt808.port}, OsmAnd on {service.osmand.port}{mqtt}", flush=True)
        stopping = asyncio.Event()  # SIGTERM (docker stop, the supervisor) or SIGINT: stop in order
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
        try:
            await stopping.wait()
        finally:
            await service.stop()

    asyncio.run(main())
    return 0


def cmd_simulate(args) -> int:
    from ingest.simulator import run_simulation

    runtime = _runtime()
    s = runtime.settings
    summary = run_simulation(
        runtime.sessions,
        devices=args.devices,
        rate=args.rate,
        duration=args.duration,
        protocol=args.protocol,
        host=args.host,
        jt808_port=args.jt808_port or s.jt808_port,
        osmand_port=args.osmand_port or s.osmand_port,
        seed=args.seed,
    )
    print(json.dumps(summary))
    return 0


def cmd_demo(args) -> int:
    from geo.places import queries
    from ingest.seed import seed_all
    from lawgrid.app import create_app

    runtime = _runtime(owner=True)
    print("reference data:", ensure_reference(runtime), flush=True)
    with runtime.session() as session:
        counts = queries.registry_counts(session)
    if counts["target"] == 0:
        print(f"seeding a synthetic registry of {args.targets:,} targets (once)...", flush=True)
        with runtime.session() as session:
            print(
                json.dumps(
                    seed_all(session, targets=args.targets, officers=3000, seed=2026, inspections=args.inspections),
                    ensure_ascii=False,
                ),
                flush=True,
            )
        print("demo cases:", json.dumps(seed_demo_cases(runtime), ensure_ascii=False), flush=True)
    print(f"seal certificates: {make_seals(runtime)} made", flush=True)
    accounts_file = runtime.settings.resolved_data_dir / "demo-accounts.txt"
    accounts_created = create_demo_accounts(runtime)
    if accounts_created:
        write_private(accounts_file, "".join(f"{n}\t{pw}\t{role}\n" for n, pw, role in accounts_created))
    if accounts_file.exists():
        print(f"demo accounts (name, password, role): {accounts_file} (readable only by you)", flush=True)
    else:
        print("the accounts were made before the demo's; set a password with `lawgrid user passwd NAME`", flush=True)
    settings = runtime.settings
    app = create_app(settings, with_ingest=True)  # the web and ingest as the app role
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill`: exit cleanly, the simulator with it
    if not args.no_simulator:
        _simulate_in_background(runtime, args.simulate_devices)
    _run_web(app, args.host or settings.host, args.port or settings.port)
    return 0


def _simulate_in_background(runtime, devices: int) -> None:
    """The demo's moving officers: the simulator in a child process (the second core)."""
    import atexit
    import subprocess

    from lawgrid.ingest_procs import die_with_parent

    s = runtime.settings
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lawgrid.cli",
            "simulate",
            "--devices",
            str(devices),
            "--rate",
            "0.5",
            "--duration",
            str(7 * 24 * 3600),
            "--host",
            "127.0.0.1",
            "--jt808-port",
            str(s.jt808_port),
            "--osmand-port",
            str(s.osmand_port),
        ],
        stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    atexit.register(child.terminate)


def cmd_bench(args) -> int:
    from lawgrid import bench

    for name, value in BENCH_DEFAULTS[args.name].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    runtime = _runtime(owner=True)
    ensure_reference(runtime)
    result = bench.run(args.name, runtime, args)
    if args.name == "ingest":
        print(
            f"offered {result['offered_msgs_per_s']:,} msgs/s, stored {result['msgs_per_s']:,} msgs/s, "
            f"lost {result['lost']}",
            file=sys.stderr,
        )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
