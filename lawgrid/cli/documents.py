"""lawgrid verify-document, lawgrid seal: is a sealed PDF intact, and the bodies' seal certificates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lawgrid.cli.common import runtime as _runtime
from lawgrid.embedded_db import EmbeddedCluster
from lawgrid.settings import load_settings


def register(sub: Any) -> None:
    verify = sub.add_parser(
        "verify-document", help="is a PDF intact since the organ sealed it, and who sealed and signed it"
    )
    verify.add_argument("file", type=Path)
    verify.add_argument("--offline", action="store_true", help="without the database: intact or not, trust unknown")
    verify.set_defaults(handler=cmd_verify_document)
    seal_cmd = sub.add_parser("seal", help="the enforcement bodies' seal certificates")
    seal_cmd.add_argument("action", choices=["init"], help="init: a certificate for every body that has none")
    seal_cmd.set_defaults(handler=cmd_seal)


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
        settings = load_settings()
        if not settings.database_url and not EmbeddedCluster(settings.resolved_data_dir).initialised():
            # a check never creates an installation: here there is none to check against
            print(
                f"lawgrid: verify-document: no LawGrid installation at {settings.resolved_data_dir} "
                "(set LAWGRID_DATA_DIR or LAWGRID_DATABASE_URL, or use --offline)",
                file=sys.stderr,
            )
            return 2
        with _runtime().session() as session:
            result = reading.verify_file(session, data)
    for sig in result["signatures"]:
        state = "intact" if sig.get("intact") and sig.get("covers_whole_file") else "NOT INTACT"
        trust = "trusted" if sig.get("trusted") else "not trusted here"
        print(f"{sig['field']}: {state}, {trust}; signed by {sig.get('signer', '?')} at {sig.get('signed_at', '?')}")
    known = result.get("document")
    if known:
        print(f"LawGrid document {known['id']} {known['doc_no'] or ''} ({known['template_code']}, {known['status']})")
    verdict = "VALID" if result["valid"] else str(result["verdict"]).upper()
    print(f"{verdict}: {result['problem'] or 'the file is as the organ sealed it'}")
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if result["valid"] else 1


def cmd_seal(args) -> int:
    print(f"seal certificates: {make_seals(_runtime())} made")
    return 0


def make_seals(runtime) -> int:
    """The set-up's step: a seal certificate for every enforcement body that has none."""
    from geo.documents import seal

    with runtime.session() as session:
        return seal.ensure_all(session, runtime.documents.passphrase)
