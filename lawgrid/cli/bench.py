"""lawgrid bench NAME: measure one capability against its baseline; one JSON line last. Runs on a
database of its own (lawgrid_bench), never the configured one."""

from __future__ import annotations

import json
import sys
from typing import Any

from lawgrid.cli.common import ensure_reference
from lawgrid.cli.common import runtime as _runtime

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
    "supervision": {},
}


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="measure a capability; prints one JSON line last")
    bench.add_argument("name", choices=list(BENCH_DEFAULTS))
    bench.add_argument("--targets", type=int, help="seed, map (default 1,000,000), dispatch (100,000)")
    bench.add_argument("--officers", type=int, default=10_000, help="dispatch")
    bench.add_argument("--tasks", type=int, default=1_000, help="dispatch")
    bench.add_argument(
        "--inspections", type=int, default=5_000_000, help="coverage; supervision: platform records over five years"
    )
    bench.add_argument("--seed", type=int, default=7, help="seed")
    bench.add_argument("--cases", type=int, default=100_000, help="cases: open cases")
    bench.add_argument("--devices", type=int, help="ingest (default 5000), push (3000)")
    bench.add_argument("--rate", type=float, help="ingest (2), push (1): fixes per second per device")
    bench.add_argument("--duration", type=float, help="ingest (60), push (30): seconds")
    bench.add_argument("--processes", type=int, default=2, help="ingest: load-generator processes")
    bench.add_argument(
        "--soak",
        type=float,
        default=None,
        metavar="SECONDS",
        help="ingest: a long run (e.g. 1800) reporting the listeners' memory slope (MB/min) and anything lost",
    )
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
            f"lost {result['lost']}, listeners' memory {result['rss_mb_start']} -> {result['rss_mb_end']} MB "
            f"(slope {result['rss_slope_mb_per_min']} MB/min)",
            file=sys.stderr,
        )
    print(json.dumps(result, ensure_ascii=False))
    return 0
