"""Engines, sessions and migrations. Nothing connects until a function here is called."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from geo.infra.errors import Conflict, Unavailable, from_database

MIGRATIONS = Path(__file__).parents[1] / "migrations"


# JIT compilation costs PostgreSQL half a second per query whose estimate crosses
# jit_above_cost; the eligibility and viewport queries are short and run often, so it never pays.
SESSION_OPTIONS = "-c jit=off"


def make_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = {"options": SESSION_OPTIONS, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def jsonable(row: Any) -> dict[str, Any]:
    """A result row as JSON-ready values: dates and times in ISO 8601, arrays as lists."""
    out: dict[str, Any] = {}
    for k, v in dict(row).items():
        out[k] = v.isoformat() if hasattr(v, "isoformat") else (list(v) if isinstance(v, list) else v)
    return out


log = logging.getLogger("lawgrid.db")
RETRIED = frozenset({"document", "evidence", "enf_case"})


def retried(session: Session, table: str, username: str, key: str | None, **same: Any) -> int | None:
    """The record a terminal's earlier submission with this retry key made, if any: a resent
    submission answers with it instead of making a second one (`UNIQUE (created_by, client_key)`).
    A key is bound to its resource (`same`: the task, the case, the template): the same key sent
    for another one is a Conflict, never the first one's record (the second submission is not lost
    silently)."""
    if key is None:
        return None
    if table not in RETRIED:
        raise ValueError(f"{table} has no retry key")
    columns = ", ".join(["id", *same])
    found = (
        session.execute(
            text(f"SELECT {columns} FROM {table} WHERE created_by = :u AND client_key = :k"), {"u": username, "k": key}
        )
        .mappings()
        .first()
    )
    if found is None:
        return None
    if any(found[column] != value for column, value in same.items()):
        raise Conflict(
            "this retry key was already used for another submission: send a new key for a new one",
            rule="retry_key_reused",
        )
    return int(found["id"])


def once(
    session: Session, table: str, username: str, key: str | None, insert: Callable[[], int], **same: Any
) -> tuple[int, bool]:
    """Insert a terminal's submission once: (its id, whether this call made it). Resends that
    race (the phone retried before the first answer came) meet on the unique key; the losers
    answer with the winner's record, as a resend after it would."""
    have = retried(session, table, username, key, **same)
    if have is not None:
        return have, False
    try:
        with session.begin_nested():
            return insert(), True
    except IntegrityError as exc:
        have = retried(session, table, username, key, **same) if key is not None else None
        if have is None:
            raise
        log.info("%s: a concurrent resend of retry key %s answered with record %s (%s)", table, key, have, exc.orig)
        return have, False


@contextmanager
def refusals(session: Session, reasons: dict[str, tuple[str, str]]) -> Iterator[None]:
    """A savepoint in which a rule the database refuses (SQLSTATE LG422: a gate or trigger of
    migration 0015) comes out as the `Refused` naming it; the outer transaction lives on."""
    try:
        with session.begin_nested():
            yield
    except DBAPIError as exc:
        refused = from_database(exc, reasons)
        if refused is None:
            raise
        raise refused from None


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    assert head is not None, "no migrations"
    return head


def grant_app_role(owner_url: str, role: str) -> None:
    """Make sure the app role exists (created if the owner may create roles) and holds exactly
    what the app needs: rows of every table, but on the audit log only SELECT and INSERT; no
    table, trigger or function of its own; the partition maintenance through a SECURITY
    DEFINER function. Tables the owner creates later (the cell pyramid's swap) get the same."""
    if not role.replace("_", "").isalnum():
        raise ValueError(f"role name {role!r} must be letters, digits and underscores")
    engine = make_engine(owner_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
                conn.execute(
                    text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS')
                )
            database = conn.execute(text("SELECT current_database()")).scalar_one()
            owner = conn.execute(text("SELECT current_user")).scalar_one()
            for statement in (
                f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}"',
                f'GRANT USAGE ON SCHEMA public TO "{role}"',
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
                f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
                f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
                f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                f'GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
                f'REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_log FROM "{role}"',
                f'REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON case_event FROM "{role}"',
                f'GRANT EXECUTE ON FUNCTION lawgrid_ensure_position_partitions(timestamptz, integer) TO "{role}"',
                f'GRANT EXECUTE ON FUNCTION lawgrid_drop_position_partitions(timestamptz) TO "{role}"',
            ):
                conn.execute(text(statement))
    finally:
        engine.dispose()


def raw_psycopg_url(engine: Engine) -> str:
    """A libpq URL for psycopg.connect (COPY paths), from an SQLAlchemy engine."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def health(engine: Engine) -> tuple[dict[str, Any], str | None]:
    """(the server's versions, the schema's revision), or Unavailable naming the database."""
    try:
        return server_summary(engine), current_revision(engine)
    except (OperationalError, InterfaceError) as exc:
        log.warning("health: the database cannot be reached: %s", exc.orig)
        raise Unavailable(
            "the database cannot be reached",
            zh="数据库无法连接",
            rule="database",
            status_of={"service": "up", "database": "unreachable"},
        ) from None


def server_summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "postgres": conn.execute(text("SHOW server_version")).scalar(),
            "postgis": conn.execute(text("SELECT postgis_lib_version()")).scalar(),
        }
