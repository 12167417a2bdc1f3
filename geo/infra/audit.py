"""The append-only audit trail (执法全过程记录): who did what, when, from where."""

from __future__ import annotations

import datetime as dt
import json
from contextvars import ContextVar
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# Where the current action comes from: the web tier sets the client's address per request,
# the CLI "cli:user@host", background work "system:<task>". Entries whose caller does not
# name a source take this one, so the core (which knows no request) still records it.
_source: ContextVar[str | None] = ContextVar("lawgrid_audit_source", default=None)


def use_source(source: str | None) -> None:
    _source.set(source)


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
            source=source or _source.get(),
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        ),
    )


def search(
    session: Session,
    *,
    actor: str | None = None,
    action: str | list[str] | None = None,
    subject: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Entries newest first. `action` is one action or a list of them; `subject` names one
    object exactly ("inspection:12") or matches any part of the target ("case:", "/api/")."""
    actions = [action] if isinstance(action, str) else (list(action) if action else None)
    rows = session.execute(
        text(
            """
            SELECT id, at, actor, action, subject, detail, source FROM audit_log
            WHERE (CAST(:actor AS text) IS NULL OR actor = :actor)
              AND (CAST(:actions AS text[]) IS NULL OR action = ANY(CAST(:actions AS text[])))
              AND (CAST(:subject AS text) IS NULL OR CASE WHEN :subject ~ '^[a-z_]+:[0-9]+$'
                   THEN subject = :subject ELSE strpos(subject, :subject) > 0 END)
              AND (CAST(:start AS timestamptz) IS NULL OR at >= :start)
              AND (CAST(:end AS timestamptz) IS NULL OR at < :end)
            ORDER BY at DESC, id DESC LIMIT :limit
            """
        ),
        dict(actor=actor, actions=actions, subject=subject, start=start, end=end, limit=limit),
    ).mappings()
    return [dict(r, at=r["at"].isoformat()) for r in rows]


def actions(session: Session) -> list[str]:
    """Every action the trail holds, for the page's filter."""
    return list(session.execute(text("SELECT DISTINCT action FROM audit_log ORDER BY 1")).scalars())
