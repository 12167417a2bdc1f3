"""The append-only audit trail (执法全过程记录): who did what, when, from where."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def record(
    session: Session,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    source: str | None = None,
) -> None:
    session.execute(
        text(
            "INSERT INTO audit_log (actor, action, subject, detail, source) "
            "VALUES (:actor, :action, :subject, CAST(:detail AS jsonb), :source)"
        ),
        dict(
            actor=actor,
            action=action,
            subject=subject,
            source=source,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        ),
    )


def search(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            """
            SELECT id, at, actor, action, subject, detail, source FROM audit_log
            WHERE (CAST(:actor AS text) IS NULL OR actor = :actor)
              AND (CAST(:action AS text) IS NULL OR action = :action)
              AND (CAST(:start AS timestamptz) IS NULL OR at >= :start)
              AND (CAST(:end AS timestamptz) IS NULL OR at < :end)
            ORDER BY at DESC, id DESC LIMIT :limit
            """
        ),
        dict(actor=actor, action=action, start=start, end=end, limit=limit),
    ).mappings()
    return [dict(r, at=r["at"].isoformat()) for r in rows]
