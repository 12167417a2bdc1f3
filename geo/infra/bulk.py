"""Bulk writes with COPY, and the staged upsert that registry imports use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

TARGET_COPY_COLUMNS = (
    "key",
    "credit_code",
    "name",
    "kind",
    "domains",
    "risk_level",
    "address",
    "township_code",
    "geom",
)


def dbapi(session: Session) -> Any:
    """The psycopg 3 connection under a session, in the session's transaction."""
    return session.connection().connection.dbapi_connection


def copy_text(session: Session, table: str, columns: Iterable[str], chunks: Iterable[str]) -> None:
    """COPY ... FROM STDIN (text format) fed with pre-formatted chunks of lines."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with dbapi(session).cursor() as cur, cur.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


def copy_escape(value: object) -> str:
    """One field in COPY text format."""
    if value is None:
        return r"\N"
    s = str(value)
    if any(c in s for c in "\\\t\n\r"):
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def pg_text_array(values: Iterable[str]) -> str:
    """A text[] literal for COPY; keys are slugs, so no quoting is needed."""
    return "{" + ",".join(values) + "}"


def upsert_targets_from_staging(session: Session) -> dict[str, Any]:
    """Move rows from the temp table target_stage into target, keyed on the registry key.

    The township comes from a spatial join in PostGIS. Returns counts of inserted and
    updated rows.
    """
    result = session.execute(
        text(
            """
            WITH moved AS (
                INSERT INTO target AS t (key, credit_code, name, kind, domains, risk_level,
                                         address, township_code, geom, updated_at)
                SELECT s.key, s.credit_code, s.name, s.kind, s.domains, s.risk_level, s.address,
                       tw.code, s.geom, now()
                FROM target_stage s
                LEFT JOIN LATERAL (
                    SELECT code FROM township WHERE ST_Covers(township.geom, s.geom)
                    ORDER BY code LIMIT 1
                ) tw ON true
                ON CONFLICT (key) DO UPDATE SET
                    credit_code = EXCLUDED.credit_code, name = EXCLUDED.name,
                    kind = EXCLUDED.kind, domains = EXCLUDED.domains,
                    risk_level = EXCLUDED.risk_level, address = EXCLUDED.address,
                    township_code = EXCLUDED.township_code, geom = EXCLUDED.geom,
                    updated_at = now()
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM moved
            """
        )
    ).one()
    return {"inserted": result[0], "updated": result[1]}


def create_target_stage(session: Session) -> None:
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS target_stage "
            "(LIKE target INCLUDING DEFAULTS EXCLUDING CONSTRAINTS EXCLUDING INDEXES) ON COMMIT DROP"
        )
    )
    session.execute(text("ALTER TABLE target_stage ALTER COLUMN id DROP NOT NULL"))
    session.execute(text("TRUNCATE target_stage"))  # a second import in the same transaction
