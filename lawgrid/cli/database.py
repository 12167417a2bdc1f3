"""lawgrid db, lawgrid seed: the database and a synthetic registry."""

from __future__ import annotations

import json
import sys
from typing import Any

from lawgrid.cli.common import ensure_reference
from lawgrid.cli.common import runtime as _runtime
from lawgrid.cli.common import upgrade_and_load_reference as _upgrade_and_load_reference
from lawgrid.cli.documents import make_seals
from lawgrid.embedded_db import EmbeddedCluster
from lawgrid.settings import load_settings


def register(sub: Any) -> None:
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


def cmd_seed(args) -> int:
    from demo.seed import seed_all

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
    """Cases in every state (some near and past their deadlines). Days past the package's last
    year are provisional (statutory holidays and weekends) until an administrator enters the
    State Council's schedule (`lawgrid calendar import` or the 工作日历 page)."""
    from demo.cases import seed_cases, settle_sources

    with runtime.session() as session:
        settled = settle_sources(session)  # the year's leads verified as a real unit would
        return {**seed_cases(session, runtime.documents, n), "sources_settled": settled}
