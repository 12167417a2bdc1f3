"""Items as stored: one version, its versions, a unit's items with their current version, and the
check points an inspection of an item covers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.items.model import Item
from geo.infra.errors import NotFound

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
