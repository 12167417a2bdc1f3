"""Document templates (CASE-PROCEDURE.md §4.5) as versioned data: `data/documents/templates.yaml`
typed here, loaded into `document_template`, never changed once loaded (a change is a new
version; a document keeps the version it was drafted from)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.errors import InvalidInput, NotFound

SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "documents" / "templates.yaml"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TemplateField(Spec):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=80)
    type: Literal["text", "longtext", "date", "datetime", "money", "bool", "list"] = "text"
    source: str | None = Field(None, alias="from", description="a value of the case context, e.g. case.party_name")
    required: bool = False
    locked: bool = Field(False, description="always the case's value: the officer cannot overwrite it")
    choices: list[str] = Field(default_factory=list, max_length=20, description="the only values the field takes")


class Signer(Spec):
    kind: Literal["officer", "party", "witness", "reviewer", "head", "organ_seal"]
    min: int = Field(ge=0, le=5)
    refusal: bool = Field(False, description="a recorded refusal (with a witness or a clip) stands in")


class Template(Spec):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=60)
    title_en: str = Field(min_length=1, max_length=80)
    doc_type: str = Field(pattern=r"^[a-z][a-z_]{0,29}$")
    numbered: Literal["none", "block", "decision"]
    basis: str | None = None
    fields: list[TemplateField] = Field(min_length=1)
    text: list[str] = Field(default_factory=list)
    defaults: dict[str, str] = Field(default_factory=dict)
    signers: list[Signer] = Field(default_factory=list)
    sign_every_page: bool = False


def parse_file(path: Path) -> list[Template]:
    try:
        docs = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    out = []
    for i, doc in enumerate(docs or []):
        try:
            out.append(Template.model_validate(doc))
        except ValidationError as exc:
            raise InvalidInput(f"{path}: template {i + 1}: {exc.errors()[0]['msg']}") from None
    return out


def load(session: Session, templates: list[Template]) -> int:
    """Insert the versions not loaded yet; a loaded version that differs is refused."""
    loaded = 0
    for t in templates:
        spec = t.model_dump(mode="json", by_alias=True)
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        have = session.execute(
            text("SELECT sha256 FROM document_template WHERE code = :c AND version = :v"),
            {"c": t.code, "v": t.version},
        ).scalar()
        if have == digest:
            continue
        if have is not None:
            raise InvalidInput(
                f"template {t.code} version {t.version} is loaded with other content; load a new version"
            )
        session.execute(
            text(
                "INSERT INTO document_template (code, version, title, doc_type, spec, sha256) "
                "VALUES (:c, :v, :t, :d, CAST(:s AS jsonb), :h)"
            ),
            {
                "c": t.code,
                "v": t.version,
                "t": t.title,
                "d": t.doc_type,
                "s": json.dumps(spec, ensure_ascii=False),
                "h": digest,
            },
        )
        loaded += 1
    return loaded


def load_seed(session: Session) -> int:
    return load(session, parse_file(SEED_FILE))


def get(session: Session, code: str, version: int | None = None) -> Template:
    """A version of a template; without one, the newest."""
    spec = session.execute(
        text(
            "SELECT spec FROM document_template WHERE code = :c AND (version = :v OR CAST(:v AS int) IS NULL) "
            "ORDER BY version DESC LIMIT 1"
        ),
        {"c": code, "v": version},
    ).scalar()
    if spec is None:
        raise NotFound(f"no document template {code}" + (f" version {version}" if version else ""))
    return Template.model_validate(spec)


def listing(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (code) code, version, title, doc_type, spec->>'title_en' AS title_en "
            "FROM document_template ORDER BY code, version DESC"
        )
    ).mappings()
    return [dict(r) for r in rows]
