"""Engines, sessions and migrations. Nothing connects until a function here is called."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


# JIT compilation costs PostgreSQL half a second per query whose estimate crosses
# jit_above_cost; the eligibility and viewport queries are short and run often, so it never pays.
SESSION_OPTIONS = "-c jit=off"


def make_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = {"options": SESSION_OPTIONS, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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


def raw_psycopg_url(engine: Engine) -> str:
    """A libpq URL for psycopg.connect (COPY paths), from an SQLAlchemy engine."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def server_summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "postgres": conn.execute(text("SHOW server_version")).scalar(),
            "postgis": conn.execute(text("SELECT postgis_lib_version()")).scalar(),
        }
