"""The typed requests on documents (draft, fields, issue, sign, void) and their limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from geo.documents import render

MAX_SIGNATURE_BYTES = 512 * 1024
SIGNER_ROLES = {"officer": "执法人员", "party": "当事人", "witness": "见证人", "reviewer": "审核人", "head": "负责人"}


@dataclass(frozen=True)
class Kit:
    """What rendering and sealing need from the installation: the font and the seal passphrase."""

    fonts: render.Fonts
    passphrase: bytes


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_nul(value: Any) -> Any:
    """Text never holds NUL (PostgreSQL refuses it): said here, by field, before any query."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise ValueError("text may not contain the NUL character")
    return value


Value = Annotated[str | bool | float | int | list[str] | None, AfterValidator(_no_nul)]


class Draft(Body):
    template: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    case_id: int | None = Field(None, ge=1)
    inspection_id: int | None = Field(None, ge=1)
    fields: dict[str, Value] = Field(default_factory=dict, max_length=60)
    client_key: str | None = Field(
        None, max_length=80, description="a terminal's retry key: one draft however often sent"
    )


class Fields(Body):
    fields: dict[str, Value] = Field(max_length=60)


class Issue(Body):
    doc_no: str | None = Field(None, max_length=60, description="a number from the terminal's own block")


class Sign(Body):
    signer_kind: Literal["officer", "party", "witness", "reviewer", "head"]
    signer_name: str | None = Field(None, min_length=1, max_length=100, description="officers sign as themselves")
    signer_ref: str | None = Field(None, max_length=40)
    doc_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the hash of the PDF the signer saw")
    image_png: str | None = Field(None, description="the handwritten signature, a PNG as base64 or a data: URL")
    refused: bool = False
    refusal_reason: str | None = Field(None, max_length=500)
    witness: str | None = Field(None, max_length=100)
    media_clip: str | None = Field(None, max_length=200, description="the body camera's clip of the refusal")
    device_id: int | None = Field(None, ge=1)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    client_key: str | None = Field(None, max_length=80)


class Void(Body):
    reason: str = Field(min_length=2, max_length=500)
