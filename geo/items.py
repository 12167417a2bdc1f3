"""Codified enforcement items (执法事项): the item document of CASE-PROCEDURE.md §4.3 as typed
models, validated on load; versions that never change once loaded; a unit's items (the power
list's items the unit holds, with their current codified version); the check points an
inspection of an item covers (检查事项清单); and `import_items`, which loads a YAML or XLSX file
document by document, reporting each bad one with its line while the good ones load.

Codes are opaque (§4.3): nothing here reads meaning from their characters."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import hashlib
import json
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.case_rules import PENALTY_KINDS
from geo.errors import InvalidInput, NotFound

LEVELS = ("不予", "减轻", "从轻", "一般", "从重")
BANDED = ("从轻", "一般", "从重")
SPLIT = (Decimal("0.3"), Decimal("0.7"))  # 30 % / 40 % / 30 % of the statutory range (§4.3 step 3, I)
TIANJIN_RULE_CAP_YUAN = Decimal(30_000)  # 《天津市制定规章设定罚款限额规定》: a 规章's fine for business conduct
SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "items" / "binhai-items.yaml"

Kind = Literal[PENALTY_KINDS]  # type: ignore[valid-type]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FloorRule(Doc):
    """Below `below_yuan` of the base the fine is a fixed range instead of a multiple
    (食品安全法 第一百二十二条: 货值金额不足一万元的，并处五万元以上十万元以下罚款)."""

    below_yuan: Decimal = Field(gt=0)
    min_yuan: Decimal = Field(ge=0)
    max_yuan: Decimal = Field(ge=0)


class Fine(Doc):
    type: Literal["none", "fixed", "multiple"]
    min_yuan: Decimal | None = Field(None, ge=0)
    max_yuan: Decimal | None = Field(None, ge=0)
    base: Slug | None = None
    base_label: str | None = None
    min_times: Decimal | None = Field(None, ge=0)
    max_times: Decimal | None = Field(None, ge=0)
    base_floor_yuan: Decimal | None = Field(
        None, ge=0, description="a base below it counts as it (不足一万元的按一万元计算)"
    )
    floor_rule: FloorRule | None = None

    @model_validator(mode="after")
    def _shape(self) -> Fine:
        if self.type == "fixed":
            if self.min_yuan is None or self.max_yuan is None or self.min_yuan > self.max_yuan:
                raise ValueError("a fixed fine has min_yuan <= max_yuan")
        if self.type == "multiple":
            if not self.base or self.min_times is None or self.max_times is None or self.min_times > self.max_times:
                raise ValueError("a multiple fine names its base and has min_times <= max_times")
        if self.floor_rule and self.floor_rule.min_yuan > self.floor_rule.max_yuan:
            raise ValueError("floor_rule has min_yuan <= max_yuan")
        return self

    def scale(self, floor: bool = False) -> tuple[Decimal, Decimal] | None:
        """The range bands are expressed in: yuan (fixed, or a multiple's floor rule) or times."""
        if self.type == "fixed" and not floor:
            return self.min_yuan or Decimal(0), self.max_yuan or Decimal(0)
        if self.type == "multiple":
            if floor:
                return (self.floor_rule.min_yuan, self.floor_rule.max_yuan) if self.floor_rule else None
            return self.min_times or Decimal(0), self.max_times or Decimal(0)
        return None


class Tier(Doc):
    id: Slug
    label: str = Field(min_length=1, max_length=200)
    kinds: list[Kind] = Field(default_factory=list)
    fine: Fine


class Statutory(Doc):
    orders: list[str] = Field(default_factory=list, description="责令改正 and other orders (not penalties)")
    always: list[Kind] = Field(default_factory=list)
    tiers: list[Tier] = Field(min_length=1)


class Factor(Doc):
    kind: Literal["number", "bool"]
    label: str | None = None


class Level(Doc):
    level: Literal[LEVELS]  # type: ignore[valid-type]
    when: str | None = Field(None, max_length=500)
    bands: dict[str, tuple[Decimal, Decimal]] = Field(default_factory=dict)


class Discretion(Doc):
    source: str | None = None
    factors: dict[str, Factor] = Field(default_factory=dict)
    levels: list[Level] = Field(default_factory=list)
    mitigation_lists: list[str] = Field(default_factory=list)


class Hearing(Doc):
    natural_min_yuan: Decimal | None = None
    org_min_yuan: Decimal | None = None
    kinds: list[Kind] = Field(default_factory=list)


class LegalReview(Doc):
    always: bool = False
    kinds: list[Kind] = Field(default_factory=list)
    min_yuan: Decimal | None = None


class Publication(Doc):
    gsxt: bool = False
    credit_china: bool = False
    severity_hint: Literal["minor", "general", "serious"] | None = None


class CheckPoint(Doc):
    content: str = Field(min_length=1, max_length=500)
    method: str | None = Field(None, max_length=100)


class Item(Doc):
    code: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    power_type: Slug
    domain: Slug
    basis: str | None = None
    violated_provision: str | None = None
    penalty_provision: str | None = None
    statutory: Statutory | None = None
    discretion: Discretion = Field(default_factory=Discretion)
    hearing: Hearing = Field(default_factory=Hearing)
    legal_review: LegalReview = Field(default_factory=LegalReview)
    publication: Publication = Field(default_factory=Publication)
    check_points: list[CheckPoint] = Field(default_factory=list)
    source_doc: str | None = None
    source_url: str | None = None
    verified: bool = True
    bands_derived: bool = False
    valid_from: dt.date
    valid_to: dt.date | None = None
    published_on: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if self.power_type == "penalty" and self.statutory is None:
            raise ValueError("a penalty item states its statutory tiers")
        tiers = {t.id: t for t in self.statutory.tiers} if self.statutory else {}
        if len(tiers) != len(self.statutory.tiers if self.statutory else ()):
            raise ValueError("statutory tier ids are unique")
        for level in self.discretion.levels:
            if level.when:
                names = condition_names(level.when)
                unknown = names - set(self.discretion.factors)
                if unknown:
                    raise ValueError(f"level {level.level}: when names undeclared factors {sorted(unknown)}")
            for key, (lo, hi) in level.bands.items():
                tier_id, _, part = key.partition(".")
                if tier_id not in tiers or part not in ("", "floor"):
                    raise ValueError(f"level {level.level}: band {key!r} names no tier (or tier.floor)")
                scale = tiers[tier_id].fine.scale(floor=part == "floor")
                if scale is None or not (scale[0] <= lo <= hi <= scale[1]):
                    raise ValueError(f"level {level.level}: band {key} [{lo}, {hi}] is not inside {scale}")
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is not before valid_from")
        provision = self.penalty_provision or ""
        if "天津市" in provision and ("规定》" in provision or "办法》" in provision) and self.statutory:
            # a Tianjin 政府规章 may set at most 30,000 yuan (CASE-PROCEDURE.md §2.4; inference)
            for t in self.statutory.tiers:
                if t.fine.type == "fixed" and (t.fine.max_yuan or 0) > TIANJIN_RULE_CAP_YUAN:
                    raise ValueError(f"tier {t.id}: a Tianjin 规章 sets at most {TIANJIN_RULE_CAP_YUAN} yuan")
        return self

    def tier(self, tier_id: str | None) -> Tier | None:
        if not self.statutory:
            return None
        if tier_id is None:
            return self.statutory.tiers[0]
        return next((t for t in self.statutory.tiers if t.id == tier_id), None)


# -- the conditions of a level: a tiny, safe expression language -------------------------------
_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.Name,
    ast.Load,
    ast.Constant,
)


_OPS: dict[type, Any] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def parse_condition(expr: str) -> ast.Expression:
    """`turnover_yuan < 100000 and not harm`: comparisons, and/or/not, names and numbers only."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"condition {expr!r} does not parse: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, int | float | bool)
        ):
            raise ValueError(f"condition {expr!r}: {type(node).__name__} is not allowed")
    return tree


def condition_names(expr: str) -> set[str]:
    return {n.id for n in ast.walk(parse_condition(expr)) if isinstance(n, ast.Name)}


def evaluate(expr: str, values: dict[str, Any]) -> bool | None:
    """True/False, or None when a factor it names was not recorded."""
    if condition_names(expr) - set(values):
        return None
    return bool(_eval(parse_condition(expr).body, values))


def _eval(node: ast.AST, values: dict[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        results = [_eval(v, values) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            ok = _OPS[type(op)](left, right)
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value)) if isinstance(node.value, int | float) else node.value
    raise ValueError(f"{type(node).__name__} is not allowed")


# -- derived bands -----------------------------------------------------------------------------
def with_derived_bands(item: Item) -> Item:
    """Fill every banded level's missing band with the 30/40/30 split of its tier's range, and
    mark the item derived when any band was generated (§4.3 step 3)."""
    if not item.statutory:
        return item
    levels = {lv.level: lv for lv in item.discretion.levels}
    for name in BANDED:
        levels.setdefault(name, Level(level=name, when=None))
    derived = False
    for tier in item.statutory.tiers:
        for floor in (False, True):
            scale = tier.fine.scale(floor=floor)
            if scale is None or scale[0] == scale[1]:
                continue
            lo, hi = scale
            cuts = [lo, lo + (hi - lo) * SPLIT[0], lo + (hi - lo) * SPLIT[1], hi]
            key = f"{tier.id}.floor" if floor else tier.id
            for i, name in enumerate(BANDED):
                if key not in levels[name].bands:
                    levels[name].bands[key] = (_plain(cuts[i]), _plain(cuts[i + 1]))
                    derived = True
    ordered = [levels[n] for n in LEVELS if n in levels]
    discretion = item.discretion.model_copy(update={"levels": ordered})
    return item.model_copy(update={"discretion": discretion, "bands_derived": item.bands_derived or derived})


def _plain(d: Decimal) -> Decimal:
    """37000.0 -> 37000, 0.0650 -> 0.065 (never 3.7E+4)."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def content_hash(item: Item) -> str:
    body = item.model_dump(mode="json", exclude={"valid_to"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def range_text(fine: Fine) -> str:
    """The tier's statutory fine as a reader writes it: "10000–100000 元", "违法所得 0–5 倍"."""
    if fine.type == "none":
        return "不设罚款"
    if fine.type == "fixed":
        return f"{_plain(fine.min_yuan or Decimal(0))}–{_plain(fine.max_yuan or Decimal(0))} 元"
    lo, hi = _plain(fine.min_times or Decimal(0)), _plain(fine.max_times or Decimal(0))
    text_ = f"{fine.base_label or fine.base} {lo}–{hi} 倍"
    if fine.base_floor_yuan:
        text_ += f"（不足 {_plain(fine.base_floor_yuan)} 元按 {_plain(fine.base_floor_yuan)} 元计）"
    if fine.floor_rule:
        f = fine.floor_rule
        text_ += f"；不足 {_plain(f.below_yuan)} 元的 {_plain(f.min_yuan)}–{_plain(f.max_yuan)} 元"
    return text_


def summary(item: Item) -> dict[str, Any]:
    """What the case file shows of an item: its provisions, tiers (ids the proposal names) and factors."""
    return {
        "code": item.code,
        "version": item.version,
        "name": item.name,
        "violated_provision": item.violated_provision,
        "penalty_provision": item.penalty_provision,
        "verified": item.verified,
        "bands_derived": item.bands_derived,
        "tiers": [
            {"id": t.id, "label": t.label, "kinds": t.kinds, "fine": range_text(t.fine), "base": t.fine.base}
            for t in (item.statutory.tiers if item.statutory else [])
        ],
        "factors": {k: f.label or k for k, f in item.discretion.factors.items()},
        "source": item.discretion.source,
    }


# -- queries -----------------------------------------------------------------------------------
COLUMNS = """code, version, name, power_type_key AS power_type, domain_key AS domain, basis, violated_provision,
    penalty_provision, statutory, discretion, hearing, legal_review, publication, check_points, source_doc,
    source_url, verified, bands_derived, valid_from, valid_to, published_on"""


def _item(row: Any) -> Item:
    data = dict(row._mapping)
    if not data["statutory"]:
        data["statutory"] = None
    return Item.model_validate(data)


def get(session: Session, code: str, version: int | None = None) -> Item:
    """A version of an item; without one, the current version."""
    row = session.execute(
        text(
            f"SELECT {COLUMNS} FROM enforcement_item WHERE code = :c "
            "AND (version = :v OR (CAST(:v AS int) IS NULL AND valid_to IS NULL))"
        ),
        {"c": code, "v": version},
    ).first()
    if row is None:
        raise NotFound(f"no enforcement item {code}" + (f" version {version}" if version else ""))
    return _item(row)


def versions(session: Session, code: str) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT version, valid_from, valid_to, bands_derived, verified, content_sha256, created_by, created_at "
            "FROM enforcement_item WHERE code = :c ORDER BY version DESC"
        ),
        {"c": code},
    ).all()
    return [dict(r._mapping) for r in rows]


def listing(
    session: Session, *, unit_ids: list[int] | None = None, domain: str | None = None, q: str | None = None
) -> list[dict[str, Any]]:
    """Current items, with the units holding each (the power list); `unit_ids` keeps those
    any of the units holds (a unit's items)."""
    rows = session.execute(
        text(
            """SELECT e.code, e.version, e.name, e.power_type_key AS power_type, e.domain_key AS domain,
                      e.penalty_provision, e.bands_derived, e.verified, e.valid_from,
                      jsonb_array_length(e.check_points) AS check_points,
                      coalesce(array_agg(DISTINCT p.unit_id) FILTER (WHERE p.unit_id IS NOT NULL), '{}') AS units
               FROM enforcement_item e LEFT JOIN power_item p ON p.item_code = e.code
               WHERE e.valid_to IS NULL AND (CAST(:d AS text) IS NULL OR e.domain_key = :d)
                 AND (CAST(:q AS text) IS NULL OR e.code ILIKE '%' || :q || '%' OR e.name ILIKE '%' || :q || '%'
                      OR p.item_name ILIKE '%' || :q || '%')
               GROUP BY e.code, e.version
               HAVING CAST(:u AS int[]) IS NULL OR array_agg(p.unit_id) && CAST(:u AS int[])
               ORDER BY e.domain_key, e.code"""
        ),
        {"d": domain, "q": q, "u": unit_ids},
    ).all()
    return [dict(r._mapping) for r in rows]


def check_points(session: Session, codes: list[str]) -> list[dict[str, Any]]:
    """The checklist of an inspection of these items (their current versions), in order."""
    rows = session.execute(
        text(
            """SELECT e.code, e.version, e.name, p.ordinality AS seq, p.value->>'content' AS content,
                      p.value->>'method' AS method
               FROM enforcement_item e, jsonb_array_elements(e.check_points) WITH ORDINALITY p
               WHERE e.code = ANY(:c) AND e.valid_to IS NULL ORDER BY array_position(:c, e.code), p.ordinality"""
        ),
        {"c": list(codes)},
    ).all()
    return [dict(r._mapping) for r in rows]


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


def read_file(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line, document) for each item in a YAML file (documents separated by ---, or one list)
    or an XLSX sheet (one row per item version; structured columns hold YAML or JSON); a
    document that cannot be read is (line, reason)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    import yaml

    out: list[tuple[int, dict[str, Any] | str]] = []
    try:
        with open(path, encoding="utf-8") as f:
            nodes = list(yaml.compose_all(f, Loader=yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInput(f"{path}: not YAML near line {mark.line + 1 if mark else '?'}: {exc}") from None
    for node in nodes:
        if node is None:
            continue
        children = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for child in children:
            line = child.start_mark.line + 1
            value = yaml.SafeLoader(yaml.serialize(child)).get_single_data()
            out.append((line, value if isinstance(value, dict) else "an item is a mapping of its fields"))
    return out


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


def load(session: Session, docs: list[tuple[int, dict[str, Any] | str]], actor: str, report: LoadReport) -> LoadReport:
    """Validate and store each document in a savepoint of its own: a bad one is reported with
    its line, the good ones load. Same code and version with the same content is unchanged;
    with other content it is refused (a version never changes); a new version replaces the
    current one from its valid_from."""
    domains = set(session.execute(text("SELECT key FROM domain")).scalars())
    types = set(session.execute(text("SELECT key FROM power_type")).scalars())
    for line, raw in docs:
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


def import_items(session: Session, path: Path, actor: str, rejects_path: Path | None = None) -> LoadReport:
    report = load(session, read_file(path), actor, LoadReport(path=str(path)))
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
