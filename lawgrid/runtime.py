"""Process-wide resources built from settings: the engine and session factory.

Built by the app factory or a CLI command, never at import time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo import db
from lawgrid.embedded_db import resolve_database_url
from lawgrid.settings import REPO_ROOT, Settings

REFERENCE_DIR = REPO_ROOT / "data" / "reference"


@dataclass
class Runtime:
    settings: Settings
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    def session(self):
        return db.session_scope(self.sessions)


def open_runtime(settings: Settings, *, migrate: bool = True, url: str | None = None) -> Runtime:
    url = url or resolve_database_url(settings)
    if migrate:
        db.upgrade(url)
    engine = db.make_engine(url, pool_size=10, max_overflow=20)
    return Runtime(settings, url, engine, db.make_sessionmaker(engine))
