"""Codified enforcement items (执法事项): the item document of CASE-PROCEDURE.md §4.3 as typed
models, validated on load; versions that never change once loaded; a unit's items (the power
list's items the unit holds, with their current codified version); the check points an
inspection of an item covers (检查事项清单); and `import_items`, which loads a YAML or XLSX file
document by document, reporting each bad one with its line while the good ones load.

Codes are opaque (§4.3): nothing here reads meaning from their characters."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.items.model import Item, content_hash, with_derived_bands
from geo.infra.errors import InvalidInput

SEED_FILE = Path(__file__).resolve().parents[3] / "data" / "items" / "binhai-items.yaml"


# -- loading ------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    path: str
    loaded: int = 0
    unchanged: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, reason)
    reject_file: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "items",
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "rejected": len(self.rejects),
            "rejects": [{"line": ln, "code": c, "reason": r} for ln, c, r in self.rejects],
            "reject_file": str(self.reject_file) if self.reject_file else None,
        }

    def summary(self) -> str:
        out = f"items: {self.loaded} loaded, {self.unchanged} unchanged, {len(self.rejects)} rejected"
        if self.reject_file:
            out += f"; reasons with line numbers in {self.reject_file}"
        for line, code, reason in self.rejects[:20]:
            out += f"\n  line {line} {code or '?'}: {reason}"
        return out


def read_file(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, document) for each item in a YAML file (documents separated by ---, or one list)
    or an XLSX sheet (one row per item version; structured columns hold YAML or JSON); a
    document that cannot be read is (line, reason). YAML is read one document at a time (with
    libyaml where installed) and each item built from its node, so a large file of documents
    is never held whole; a tag other than YAML's own (`!!python/object`, say) rejects its item."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
        return
    import yaml

    try:
        stream = open(path, encoding="utf-8")  # noqa: SIM115 (closed below, after the last document)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(stream)
    line = 1
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                mark = getattr(exc, "problem_mark", None)
                yield (mark.line + 1 if mark else line), f"not YAML from here on (nothing after it is read): {exc}"
                return
            plain_list = isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq"
            children = node.value if plain_list else [node]
            for child in children:
                line = child.start_mark.line + 1
                try:
                    value = loader.construct_document(child)
                except yaml.YAMLError as exc:
                    yield line, f"cannot be read: {getattr(exc, 'problem', None) or exc}"
                    continue
                yield line, value if isinstance(value, dict) else "an item is a mapping of its fields"
    finally:
        loader.dispose()
        stream.close()


STRUCTURED = ("statutory", "discretion", "hearing", "legal_review", "publication", "check_points")


def _read_xlsx(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    import openpyxl
    import yaml

    try:
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise InvalidInput(f"{path}: not an XLSX workbook: {exc}") from None
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    out: list[tuple[int, dict[str, Any] | str]] = []
    for number, values in enumerate(rows, start=2):
        doc = {h: v for h, v in zip(header, values, strict=False) if h and v not in (None, "")}
        if not doc:
            continue
        try:
            for key in STRUCTURED:
                if isinstance(doc.get(key), str):
                    doc[key] = yaml.safe_load(doc[key])
        except yaml.YAMLError as exc:
            out.append((number, f"column {key}: not YAML or JSON: {exc}"))
            continue
        for key in ("valid_from", "valid_to", "published_on"):
            if isinstance(doc.get(key), dt.datetime):
                doc[key] = doc[key].date()
        out.append((number, doc))
    return out


def load(
    session: Session,
    docs: Iterable[tuple[int, dict[str, Any] | str]],
    actor: str,
    report: LoadReport,
    progress: Callable[[LoadReport, int], None] | None = None,
) -> LoadReport:
    """Validate and store each document in a savepoint of its own: a bad one is reported with
    its line, the good ones load. Same code and version with the same content is unchanged;
    with other content it is refused (a version never changes); a new version replaces the
    current one from its valid_from. `progress(report, line)` is told every PROGRESS_EVERY items."""
    domains = set(session.execute(text("SELECT key FROM domain")).scalars())
    types = set(session.execute(text("SELECT key FROM power_type")).scalars())
    for seen, (line, raw) in enumerate(docs, start=1):
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(report, line)
        code = str(raw.get("code", "")) if isinstance(raw, dict) else ""
        if isinstance(raw, str):
            report.rejects.append((line, code, raw))
            continue
        try:
            item = with_derived_bands(Item.model_validate(raw))
        except ValidationError as exc:
            report.rejects.append((line, code, _explain(exc)))
            continue
        if item.domain not in domains or item.power_type not in types:
            bad = "domain" if item.domain not in domains else "power_type"
            report.rejects.append((line, code, f"{bad} {getattr(item, bad)!r} is not in the taxonomy"))
            continue
        digest = content_hash(item)
        existing = session.execute(
            text(
                "SELECT version, content_sha256, valid_from FROM enforcement_item WHERE code = :c ORDER BY version DESC"
            ),
            {"c": item.code},
        ).all()
        same = next((r for r in existing if r.version == item.version), None)
        if same is not None:
            if same.content_sha256 == digest:
                report.unchanged += 1
            else:
                report.rejects.append(
                    (
                        line,
                        code,
                        f"version {item.version} is loaded with other content; a version never changes, "
                        f"load it as version {existing[0].version + 1}",
                    )
                )
            continue
        if existing and existing[0].version > item.version:
            report.rejects.append((line, code, f"version {existing[0].version} is newer; versions only go up"))
            continue
        with session.begin_nested():
            if existing:
                session.execute(
                    text(
                        "UPDATE enforcement_item SET valid_to = greatest(valid_from, CAST(:d AS date) - 1) "
                        "WHERE code = :c AND valid_to IS NULL"
                    ),
                    {"c": item.code, "d": item.valid_from},
                )
            _insert(session, item, digest, actor)
        report.loaded += 1
    return report


def _insert(session: Session, item: Item, digest: str, actor: str) -> None:
    body = item.model_dump(mode="json")
    session.execute(
        text(
            """INSERT INTO enforcement_item (code, version, name, power_type_key, domain_key, basis,
                   violated_provision, penalty_provision, statutory, discretion, hearing, legal_review, publication,
                   check_points, bands_derived, verified, source_doc, source_url, valid_from, valid_to, published_on,
                   content_sha256, created_by)
               VALUES (:code, :version, :name, :power_type, :domain, :basis, :violated_provision, :penalty_provision,
                   CAST(:statutory AS jsonb), CAST(:discretion AS jsonb), CAST(:hearing AS jsonb),
                   CAST(:legal_review AS jsonb), CAST(:publication AS jsonb), CAST(:check_points AS jsonb),
                   :bands_derived, :verified, :source_doc, :source_url, :valid_from, :valid_to, :published_on,
                   :digest, :actor)"""
        ),
        {
            **{k: body[k] for k in ("code", "version", "name", "power_type", "domain", "basis")},
            **{k: body[k] for k in ("violated_provision", "penalty_provision", "bands_derived", "verified")},
            **{k: body[k] for k in ("source_doc", "source_url", "valid_from", "valid_to", "published_on")},
            **{k: json.dumps(body[k] if body[k] is not None else {}, ensure_ascii=False) for k in STRUCTURED},
            "digest": digest,
            "actor": actor,
        },
    )


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


PROGRESS_EVERY = 1_000


def import_items(
    session: Session,
    path: Path,
    actor: str,
    rejects_path: Path | None = None,
    progress: Callable[[LoadReport, int], None] | None = None,
) -> LoadReport:
    report = load(session, read_file(path), actor, LoadReport(path=str(path)), progress)
    if report.rejects:
        report.reject_file = rejects_path or path.with_name(path.name + ".rejects.csv")
        with open(report.reject_file, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["line", "code", "reason"])
            writer.writerows(sorted(report.rejects))
    return report


def load_seed(session: Session, actor: str = "seed") -> LoadReport:
    """The bundled items (data/items/binhai-items.yaml); a bundled item that fails is a bug."""
    report = load(session, read_file(SEED_FILE), actor, LoadReport(path=str(SEED_FILE)))
    if report.rejects:
        raise ValueError(f"bundled items rejected: {report.rejects}")
    return report
