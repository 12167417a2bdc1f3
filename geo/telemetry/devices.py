"""Devices as ingest knows them: looked up by their protocol identifier, listed for the
listeners' registry snapshot, and their JT/T 808 authentication codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# -- device registry lookups used by listeners ------------------------------------------
DEVICE_COLUMNS = "id, protocol, identifier, auth_code, officer_id, profile, device_key, terminal_id"


def device_by_identifier(session: Session, protocol: str, identifier: str) -> dict[str, Any] | None:
    """Devices are matched on their identifier; a JT/T 808 number as its header carries it
    (lawgrid_terminal_key: no leading zeros, lower-case hex), through an index."""
    if protocol == "jt808":
        sql = (
            f"SELECT {DEVICE_COLUMNS} FROM device "
            "WHERE protocol = 'jt808' AND lawgrid_terminal_key(identifier) = lawgrid_terminal_key(:i)"
        )
        row = session.execute(text(sql), {"i": identifier}).first()
    else:
        row = session.execute(
            text(f"SELECT {DEVICE_COLUMNS} FROM device WHERE protocol = :p AND identifier = :i"),
            {"p": protocol, "i": identifier},
        ).first()
    return None if row is None else dict(row._mapping)


def all_devices(session: Session) -> list[dict[str, Any]]:
    """Every registered device, with the key it is looked up by (for the listeners' cache:
    one query at start instead of one per login)."""
    rows = session.execute(
        text(
            f"SELECT {DEVICE_COLUMNS}, CASE WHEN protocol = 'jt808' THEN lawgrid_terminal_key(identifier) "
            "ELSE identifier END AS key FROM device"
        )
    )
    return [dict(r._mapping) for r in rows]


def claim_auth_codes(session: Session, offers: dict[int, str]) -> dict[int, str]:
    """Give each device {id: code} that has no authentication code the one offered, in one
    statement; returns the code each device has now. A device keeps its code across logins
    (so a login costs no write), until it deregisters."""
    if not offers:
        return {}
    rows = session.execute(
        text(
            "UPDATE device d SET auth_code = coalesce(d.auth_code, o.code) "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS text[])) AS o(id, code) "
            "WHERE d.id = o.id RETURNING d.id, d.auth_code"
        ),
        {"ids": list(offers), "codes": list(offers.values())},
    )
    return {device_id: code for device_id, code in rows}


def set_auth_code(session: Session, device_id: int, code: str | None) -> None:
    session.execute(text("UPDATE device SET auth_code = :c WHERE id = :d"), {"c": code, "d": device_id})
