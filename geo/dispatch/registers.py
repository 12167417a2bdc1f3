"""The dispatch desk's registers and pickers: recusals (回避), officers, domains and targets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.dispatch.model import DispatchError, NotFound
from geo.infra import audit


def recusals(session: Session, unit_ids: frozenset[int] | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The recusal register (回避登记), newest first, for the caller's units' officers."""
    rows = session.execute(
        text(
            """SELECT r.officer_id, o.name AS officer, u.name AS unit, r.target_id, t.name AS target, r.reason,
                   r.created_by, r.created_at
            FROM recusal r JOIN officer o ON o.id = r.officer_id JOIN enforcement_unit u ON u.id = o.unit_id
            JOIN target t ON t.id = r.target_id
            WHERE CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[]))
            ORDER BY r.created_at DESC LIMIT :limit"""
        ),
        {"units": sorted(unit_ids) if unit_ids is not None else None, "limit": limit},
    ).mappings()
    return [dict(r, created_at=r["created_at"].isoformat()) for r in rows]


def officer_choices(session: Session, unit_ids: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Officers a caller may name (his units' own), for pickers."""
    rows = session.execute(
        text(
            """SELECT o.id, o.name, o.cert_no, u.name AS unit FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id
            WHERE CAST(:units AS int[]) IS NULL OR o.unit_id = ANY(CAST(:units AS int[])) ORDER BY u.code, o.name"""
        ),
        {"units": sorted(unit_ids) if unit_ids is not None else None},
    ).mappings()
    return [dict(r) for r in rows]


def target_domains(session: Session, target_id: int) -> list[dict[str, Any]]:
    """A target's domains that some unit holds a power in (a task can be raised in them)."""
    rows = session.execute(
        text(
            """SELECT d.key, d.zh, d.en FROM target t CROSS JOIN LATERAL unnest(t.domains) AS k(key)
            JOIN domain d ON d.key = k.key WHERE t.id = :t
              AND EXISTS (SELECT 1 FROM power_item p WHERE p.domain_key = d.key) ORDER BY d.key"""
        ),
        {"t": target_id},
    ).mappings()
    return [dict(r) for r in rows]


def find_targets(session: Session, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Targets whose name or credit code holds q, for pickers (complaint intake, recusals)."""
    rows = session.execute(
        text(
            """SELECT id, name, credit_code, domains, township_code FROM target
            WHERE strpos(name, :q) > 0 OR strpos(coalesce(credit_code, ''), upper(:q)) > 0
            ORDER BY length(name), id LIMIT :limit"""
        ),
        {"q": q.strip(), "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def recuse(session: Session, officer_id: int, target_id: int, reason: str, actor: str) -> None:
    if not reason.strip():
        raise DispatchError("say why the officer is recused")
    for table, key in (("officer", officer_id), ("target", target_id)):
        if session.execute(text(f"SELECT 1 FROM {table} WHERE id = :k"), {"k": key}).first() is None:
            raise NotFound(f"no {table} {key}")
    session.execute(
        text(
            "INSERT INTO recusal (officer_id, target_id, reason, created_by) VALUES (:o, :t, :r, :a) "
            "ON CONFLICT (officer_id, target_id) DO UPDATE SET reason = EXCLUDED.reason"
        ),
        dict(o=officer_id, t=target_id, r=reason, a=actor),
    )
    audit.record(
        session, actor, "recusal_add", subject=f"officer:{officer_id}", detail={"target": target_id, "reason": reason}
    )
