"""Process-wide resources built from settings: the engine and session factory.

Built by the app factory or a CLI command, never at import time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from geo import db
from lawgrid.embedded_db import normalise_url, resolve_database_url
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


def database_urls(settings: Settings) -> tuple[str, str]:
    """(owner URL, app URL). The owner runs migrations and maintenance (seed, imports, the
    cell pyramid's swap); the web and ingest processes connect as the app role, which owns
    nothing and may only SELECT and INSERT on the audit log.

    Embedded: the cluster's superuser, and the role LAWGRID_APP_ROLE on the same socket.
    LAWGRID_DATABASE_URL: the app's own URL; LAWGRID_DATABASE_OWNER_URL, when set, the
    owner's (otherwise that one URL does both, as before)."""
    if settings.database_url:
        app = normalise_url(settings.database_url)
        return (normalise_url(settings.database_owner_url) if settings.database_owner_url else app), app
    owner = resolve_database_url(settings)
    return owner, make_url(owner).set(username=settings.app_role).render_as_string(hide_password=False)


def open_runtime(settings: Settings, *, migrate: bool = True, url: str | None = None, owner: bool = False) -> Runtime:
    """Connect (as the app role, or as the owner with owner=True), migrating first."""
    owner_url, app_url = database_urls(settings) if url is None else (url, url)
    if migrate:
        db.upgrade(owner_url)
        if app_url != owner_url:
            db.grant_app_role(owner_url, make_url(app_url).username or settings.app_role)
    chosen = owner_url if owner else app_url
    engine = db.make_engine(chosen, pool_size=10, max_overflow=20)
    return Runtime(settings, chosen, engine, db.make_sessionmaker(engine))
