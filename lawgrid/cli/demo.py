"""lawgrid demo: everything on the embedded database, seeded once, with the simulator."""

from __future__ import annotations

import json
import sys
from typing import Any

from lawgrid.cli.accounts import create_demo_accounts
from lawgrid.cli.common import ensure_reference, write_private
from lawgrid.cli.common import runtime as _runtime
from lawgrid.cli.database import seed_demo_cases
from lawgrid.cli.documents import make_seals
from lawgrid.cli.serving import _run_web


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="embedded database, Binhai data, synthetic registry, dashboard")
    demo.add_argument("--targets", type=int, default=50_000)
    demo.add_argument("--inspections", type=int, default=100_000, help="a year of history for 覆盖率")
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)
    demo.add_argument("--simulate-devices", type=int, default=600)
    demo.add_argument("--no-simulator", action="store_true")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args) -> int:
    from demo.seed import seed_all
    from geo.places import queries
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
            # the command centre sees an SOS in the first minutes, then about six an hour
            "--first-sos-after",
            "90",
            "--sos-per-hour",
            "6",
        ],
        stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    atexit.register(child.terminate)
