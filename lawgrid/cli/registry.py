"""lawgrid import: townships, targets, officers, devices or codified items from a file, bad rows reported by line."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.infra.errors import LawGridError
from lawgrid.cli.common import ensure_reference
from lawgrid.cli.common import runtime as _runtime


def register(sub: Any) -> None:
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


def cmd_import(args) -> int:

    from geo.cases.items import loading
    from geo.infra import audit
    from ingest.registry import devices, officers, targets, townships
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
        "items": lambda session, path, rejects_path, **_: loading.import_items(
            session, path, actor, rejects_path, progress=_progress
        ),
        "targets": targets.import_targets,
        "officers": officers.import_officers,
        "devices": devices.import_devices,
        "townships": townships.import_townships,
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
    print(f"  peak memory {_peak_mb():.0f} MB", file=sys.stderr)
    return 0


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _progress(report: Any, line: int) -> None:
    """Where a long import is, on stderr: items read, loaded, rejected, and the memory it holds."""
    print(
        f"  items: up to line {line:,}: {report.loaded:,} loaded, {report.unchanged:,} unchanged, "
        f"{len(report.rejects):,} rejected; peak memory {_peak_mb():.0f} MB",
        file=sys.stderr,
        flush=True,
    )
