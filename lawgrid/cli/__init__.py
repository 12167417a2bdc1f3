"""The `lawgrid` command line: one module per command group, each adding its commands with
`register(sub)`; the groups are listed once, here."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys

from geo.infra.errors import LawGridError
from lawgrid.cli import accounts, bench, casework, database, demo, documents, registry, serving, supervision
from lawgrid.embedded_db import EmbeddedDbError

GROUPS = (database, registry, accounts, casework, documents, serving, supervision, demo, bench)


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
    parser = argparse.ArgumentParser(
        prog="lawgrid", description="LawGrid: command, dispatch and supervision of administrative law enforcement."
    )
    sub = parser.add_subparsers(dest="command")
    for group in GROUPS:
        group.register(sub)
    return parser
