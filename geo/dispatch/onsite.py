"""On site (移动执法): what an officer's terminal records on a task of his: his tasks, the
checklist of the task's check points (检查事项清单), and evidence (a photo with the time,
place and hash of its capture, or a note), kept as captured. Every submission may carry the
terminal's retry key: sent again after a lost answer, it returns the first record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases.rules import RULES
from geo.dispatch import model, tasks
from geo.infra import audit, db, images
from geo.infra.errors import InvalidInput, NotFound, Refused
from geo.infra.requests import decode_file

MAX_PHOTO_BYTES = 8 * 1024 * 1024


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Checklist(Body):
    results: dict[str, Literal["ok", "violation", "not_checked"]] = Field(
        max_length=200, description="check point (item code:seq) -> ok | violation | not_checked"
    )
    notes: dict[str, str] = Field(default_factory=dict, max_length=200)


class Evidence(Body):
    kind: Literal["photo", "note"]
    note: str | None = Field(None, max_length=2000)
    image: str | None = Field(None, description="the photo as base64 or a data: URL (JPEG, PNG or WebP)")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="the terminal's hash at capture")
    taken_at: dt.datetime
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    device_id: int | None = Field(None, ge=1)
    client_key: str | None = Field(None, max_length=80)


def my_tasks(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """The open tasks the caller is crew on, soonest due first, with their check points."""
    rows = session.execute(
        text(
            """SELECT i.id, i.checklist, t.address FROM inspection i
               JOIN inspection_officer io ON io.inspection_id = i.id JOIN target t ON t.id = i.target_id
               WHERE io.officer_id = :o AND i.status = ANY(:open) ORDER BY i.due_at, i.id LIMIT 100"""
        ),
        {"o": scope.officer_id, "open": list(model.OPEN)},
    ).all()
    out = []
    for task_id, checklist, address in rows:
        view = tasks.task_view(session, int(task_id))
        view.update(checklist=checklist, address=address, evidence=evidence_of(session, int(task_id)))
        out.append(db.jsonable(view))
    return out


def save_checklist(session: Session, scope: Scope, task_id: int, body: Checklist) -> dict[str, Any]:
    task = tasks.task_view(session, task_id)
    if task["status"] not in ("on_site", "completed"):
        raise Refused([{"rule": "checklist_on_site"}], RULES)
    known = {f"{p['code']}:{p['seq']}" for p in task["check_points"]}
    unknown = set(body.results) - known
    if unknown:
        raise InvalidInput(f"results: no check point {', '.join(sorted(unknown))} on this task")
    record = {
        "results": body.results,
        "notes": {k: v for k, v in body.notes.items() if k in known},
        "by": scope.username,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    session.execute(
        text("UPDATE inspection SET checklist = CAST(:c AS jsonb) WHERE id = :i"),
        {"c": json.dumps(record, ensure_ascii=False), "i": task_id},
    )
    audit.record(session, scope.username, "task_checklist", subject=f"inspection:{task_id}", detail=body.results)
    return record


def add_evidence(session: Session, scope: Scope, task_id: int, body: Evidence) -> dict[str, Any]:
    have = db.retried(session, "evidence", scope.username, body.client_key, inspection_id=task_id)
    if have is not None:
        return _one(session, have)
    status = session.execute(text("SELECT status FROM inspection WHERE id = :i"), {"i": task_id}).scalar()
    if status != "on_site":  # evidence is captured at the scene, not added to a finished task
        raise Refused([{"rule": "evidence_on_site"}], RULES)
    content = mime = digest = display = None
    if body.kind == "photo":
        if not body.image:
            raise InvalidInput("image: the photo is required")
        raw = decode_file(body.image, "image", MAX_PHOTO_BYTES)
        mime, display = images.photo(raw)  # decoded as what it claims, bounded, re-encoded to show
        digest = hashlib.sha256(raw).hexdigest()
        if body.sha256 and body.sha256 != digest:
            raise Refused([{"rule": "evidence_hash"}], RULES)
        content = raw
    elif not body.note:
        raise InvalidInput("note: a note's text is required")
    if body.device_id is not None and not policy.own_device(session, scope, body.device_id):
        raise Refused([{"rule": "signature_device"}], RULES)

    def insert() -> int:
        return int(
            session.execute(
                text(
                    """INSERT INTO evidence (inspection_id, kind, note, content, mime, sha256, taken_at, geom,
                                     device_id, client_key, created_by, display)
               VALUES (:i, :k, :n, :c, :m, :h, :t,
                       CASE WHEN CAST(:lat AS float8) IS NULL THEN NULL
                            ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
                       :d, :key, :by, :shown) RETURNING id"""
                ),
                {
                    "i": task_id,
                    "k": body.kind,
                    "n": body.note,
                    "c": content,
                    "m": mime,
                    "h": digest,
                    "t": body.taken_at,
                    "lat": body.lat,
                    "lon": body.lon,
                    "d": body.device_id,
                    "key": body.client_key,
                    "by": scope.username,
                    "shown": display,
                },
            ).scalar_one()
        )

    evidence_id, made = db.once(session, "evidence", scope.username, body.client_key, insert, inspection_id=task_id)
    if not made:  # a resend that raced the first: its record, as the first answer gave it
        return _one(session, evidence_id)
    audit.record(
        session,
        scope.username,
        "evidence_add",
        subject=f"inspection:{task_id}",
        detail={"id": evidence_id, "sha256": digest},
    )
    return _one(session, int(evidence_id))


COLUMNS = """id, inspection_id, case_id, kind, note, mime, sha256, taken_at, ST_Y(geom) AS lat, ST_X(geom) AS lon,
             device_id, created_by, created_at, length(content) AS bytes"""


def _one(session: Session, evidence_id: int) -> dict[str, Any]:
    row = session.execute(text(f"SELECT {COLUMNS} FROM evidence WHERE id = :e"), {"e": evidence_id}).mappings().one()
    return db.jsonable(dict(row))


def evidence_of(session: Session, task_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        text(f"SELECT {COLUMNS} FROM evidence WHERE inspection_id = :i ORDER BY id"), {"i": task_id}
    ).mappings()
    return [db.jsonable(dict(r)) for r in rows]


def officer_card(session: Session, officer_id: int | None) -> dict[str, Any] | None:
    """An officer's name, certificate and unit, and his devices."""
    row = (
        session.execute(
            text(
                "SELECT o.id, o.name, o.cert_no, o.unit_id, u.name AS unit FROM officer o "
                "JOIN enforcement_unit u ON u.id = o.unit_id WHERE o.id = :o"
            ),
            {"o": officer_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    devices = session.execute(
        text("SELECT id, kind, protocol, identifier FROM device WHERE officer_id = :o ORDER BY id"), {"o": officer_id}
    ).mappings()
    return {"officer": dict(row), "devices": [dict(d) for d in devices]}


def photo(session: Session, evidence_id: int, *, original: bool = False) -> tuple[int, str, bytes]:
    """(the inspection, the MIME type, the bytes) of a photo: the JPEG LawGrid made to display it,
    or the original as captured (the evidence itself)."""
    row = session.execute(
        text("SELECT inspection_id, mime, content, display FROM evidence WHERE id = :e AND kind = 'photo'"),
        {"e": evidence_id},
    ).first()
    if row is None:
        raise NotFound(f"no photo {evidence_id}")
    if original or row.display is None:  # photos kept before 0029 have no derivative
        return int(row.inspection_id), str(row.mime), bytes(row.content)
    return int(row.inspection_id), "image/jpeg", bytes(row.display)
