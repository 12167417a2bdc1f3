"""Document numbers (文号, CASE-PROCEDURE.md §4.4): `prefix〔year〕n号`, n without leading zeros
(GB/T 9704), from number blocks per unit, document type and year.

The desk takes the next number of the unit's desk blocks (a new block of `DESK_BLOCK` opens
when they are used up). A block handed to a terminal (`issue_block`) lets its officer issue
numbered simple-procedure decisions offline: the terminal picks its numbers and the server
accepts each once, from that officer's own block (`use_issued`). Every number used keeps its
row; a voided number stays, with its reason (`void`)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access import policy
from geo.access.accounts import Scope
from geo.cases.rules import RULES
from geo.infra import db
from geo.infra.errors import Conflict, NotFound, Refused

DESK_BLOCK = 100
TERMINAL_BLOCK_MAX = 200
# Numbers an officer may hold unused on his terminals (per document type and year): one full
# block. A new block is handed out only as the old ones are used up (or voided); held by
# migration 0029 too.
OUTSTANDING_MAX = 200
# the prefix is configuration not found for Binhai (CASE-PROCEDURE.md Q9): 津滨 + unit code + the type's word
WORDS = {"case": "立", "decision": "罚决", "onsite": "当罚", "notice": "罚告"}
NUMBER = re.compile(r"^(?P<prefix>.+)〔(?P<year>\d{4})〕(?P<n>[1-9]\d*)号$")


def format_no(prefix: str, year: int, n: int) -> str:
    return f"{prefix}〔{year}〕{n}号"


def prefix_for(session: Session, unit_id: int, doc_type: str) -> str:
    code = session.execute(text("SELECT code FROM enforcement_unit WHERE id = :u"), {"u": unit_id}).scalar_one()
    return f"津滨{code}{WORDS.get(doc_type, doc_type)}"


def take(session: Session, unit_id: int, doc_type: str, year: int, by: str, document_id: int | None = None) -> str:
    """The next desk number: the lowest free one of the unit's desk blocks, in block order."""
    row = session.execute(
        text(
            """UPDATE doc_number_block SET next_no = next_no + 1
               WHERE id = (SELECT id FROM doc_number_block
                           WHERE unit_id = :u AND doc_type = :t AND year = :y AND issued_to_device IS NULL
                             AND next_no <= last_no
                           ORDER BY first_no LIMIT 1 FOR UPDATE)
               RETURNING id, next_no - 1 AS no, prefix"""
        ),
        {"u": unit_id, "t": doc_type, "y": year},
    ).first()
    if row is None:
        _new_block(session, unit_id, doc_type, year, DESK_BLOCK, by)
        return take(session, unit_id, doc_type, year, by, document_id)
    doc_no = format_no(row.prefix, year, row.no)
    _record(session, row.id, row.no, doc_no, by, document_id)
    return doc_no


def _new_block(session: Session, unit_id: int, doc_type: str, year: int, size: int, by: str, **issued: Any) -> int:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('doc_number_block'), :u)"), {"u": unit_id})
    last = session.execute(
        text(
            "SELECT coalesce(max(last_no), 0) FROM doc_number_block WHERE unit_id = :u AND doc_type = :t AND year = :y"
        ),
        {"u": unit_id, "t": doc_type, "y": year},
    ).scalar_one()
    return int(
        session.execute(
            text(
                """INSERT INTO doc_number_block (unit_id, doc_type, year, prefix, first_no, last_no, next_no,
                                                 issued_to_device, issued_to_officer, issued_at, created_by)
                   VALUES (:u, :t, :y, :p, :f, :l, :f, :dev, :off,
                           CASE WHEN CAST(:dev AS int) IS NULL THEN NULL ELSE now() END, :by)
                   RETURNING id"""
            ),
            {
                "u": unit_id,
                "t": doc_type,
                "y": year,
                "p": prefix_for(session, unit_id, doc_type),
                "f": last + 1,
                "l": last + size,
                "dev": issued.get("device_id"),
                "off": issued.get("officer_id"),
                "by": by,
            },
        ).scalar_one()
    )


def _record(session: Session, block_id: int, no: int, doc_no: str, by: str, document_id: int | None) -> None:
    session.execute(
        text("INSERT INTO doc_number (block_id, no, doc_no, used_by, document_id) VALUES (:b, :n, :d, :by, :doc)"),
        {"b": block_id, "n": no, "d": doc_no, "by": by, "doc": document_id},
    )


def issue_block(
    session: Session, scope: Scope, unit_id: int, doc_type: str, year: int, size: int, device_id: int
) -> dict[str, Any]:
    """A block of numbers for the officer's terminal (当场处罚决定书 are 编有号码: 处罚法 第五十二条)."""
    if scope.officer_id is None:
        raise Refused([{"rule": "number_block_officer"}], RULES)
    if not scope.district_wide and unit_id not in (scope.unit_ids or ()):
        raise NotFound(f"no unit {unit_id} in your scope", rule="unit_scope")
    if not policy.own_device(session, scope, device_id):
        raise Refused([{"rule": "number_block_device"}], RULES)
    size = min(size, TERMINAL_BLOCK_MAX)
    held = outstanding(session, scope.officer_id, doc_type, year)
    if held + size > OUTSTANDING_MAX:
        raise Refused(
            [{"rule": "number_block_outstanding", "held": held, "max": OUTSTANDING_MAX}],
            RULES,
            detail=f"{held} unused of {OUTSTANDING_MAX}",
        )
    block_id = _new_block(
        session,
        unit_id,
        doc_type,
        year,
        size,
        scope.username,
        device_id=device_id,
        officer_id=scope.officer_id,
    )
    return block(session, block_id)


def outstanding(session: Session, officer_id: int, doc_type: str, year: int) -> int:
    """Numbers of the officer's terminal blocks not used yet."""
    return int(
        session.execute(
            text("SELECT lawgrid_numbers_outstanding(:o, :t, :y)"), {"o": officer_id, "t": doc_type, "y": year}
        ).scalar_one()
    )


def block(session: Session, block_id: int) -> dict[str, Any]:
    row = (
        session.execute(
            text(
                """SELECT b.id, b.unit_id, b.doc_type, b.year, b.prefix, b.first_no, b.last_no,
                      b.issued_to_device AS device_id, b.issued_to_officer AS officer_id, b.issued_at,
                      coalesce(array_agg(n.no ORDER BY n.no) FILTER (WHERE n.no IS NOT NULL), '{}') AS used
               FROM doc_number_block b LEFT JOIN doc_number n ON n.block_id = b.id
               WHERE b.id = :b GROUP BY b.id"""
            ),
            {"b": block_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no number block {block_id}")
    out = db.jsonable(row)
    out["numbers"] = [format_no(row["prefix"], row["year"], n) for n in (row["first_no"], row["last_no"])]
    return out


def use_issued(session: Session, scope: Scope, doc_no: str, doc_type: str, document_id: int | None = None) -> str:
    """Accept a number a terminal issued from its block: the caller's own block, in range, once."""
    m = NUMBER.match(doc_no)
    if not m:
        raise Refused([{"rule": "number_format", "doc_no": doc_no}], RULES)
    row = session.execute(
        text(
            """SELECT id FROM doc_number_block
               WHERE prefix = :p AND year = :y AND doc_type = :t AND :n BETWEEN first_no AND last_no
                 AND issued_to_officer = :o FOR UPDATE"""
        ),
        {"p": m["prefix"], "y": int(m["year"]), "t": doc_type, "n": int(m["n"]), "o": scope.officer_id},
    ).first()
    if row is None:
        raise Refused([{"rule": "number_block", "doc_no": doc_no}], RULES)
    taken = session.execute(text("SELECT 1 FROM doc_number WHERE doc_no = :d"), {"d": doc_no}).first()
    if taken:
        raise Conflict(f"number {doc_no} is already used or voided", rule="number_used")
    _record(session, row.id, int(m["n"]), doc_no, scope.username, document_id)
    return doc_no


def link(session: Session, doc_no: str, document_id: int) -> None:
    session.execute(
        text("UPDATE doc_number SET document_id = :doc WHERE doc_no = :d AND document_id IS NULL"),
        {"doc": document_id, "d": doc_no},
    )


def void(session: Session, scope: Scope, doc_no: str, reason: str) -> dict[str, Any]:
    """Void a number (a spoiled form, a document voided): its row stays, with the reason. A
    terminal's unused number may be voided by its officer, so the block has no gap unexplained."""
    m = NUMBER.match(doc_no)
    if not m:
        raise Refused([{"rule": "number_format", "doc_no": doc_no}], RULES)
    row = session.execute(text("SELECT voided FROM doc_number WHERE doc_no = :d FOR UPDATE"), {"d": doc_no}).first()
    if row is None:
        blk = session.execute(
            text(
                """SELECT id FROM doc_number_block WHERE prefix = :p AND year = :y
                     AND :n BETWEEN first_no AND last_no
                     AND (issued_to_officer = :o OR (issued_to_device IS NULL AND next_no > :n))"""
            ),
            {"p": m["prefix"], "y": int(m["year"]), "n": int(m["n"]), "o": scope.officer_id},
        ).first()
        if blk is None:
            raise NotFound(f"no number {doc_no} in your blocks", rule="number_block")
        _record(session, blk.id, int(m["n"]), doc_no, scope.username, None)
    elif row.voided:
        raise Conflict(f"number {doc_no} is already voided", rule="number_kept")
    session.execute(
        text(
            "UPDATE doc_number SET voided = true, void_reason = :r, voided_by = :by, voided_at = now() "
            "WHERE doc_no = :d"
        ),
        {"r": reason, "by": scope.username, "d": doc_no},
    )
    return {"doc_no": doc_no, "voided": True, "reason": reason}
