"""Process-wide resources built from settings: the engine and session factory.

Built by the app factory or a CLI command, never at import time."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from geo.documents import forms, render
from geo.infra import db
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

    @cached_property
    def documents(self) -> forms.Kit:
        """Rendering and sealing: the embedded font and the seal passphrase."""
        return forms.Kit(fonts(self.settings.font_cache_dir), seal_passphrase(self.settings))


_FONTS: dict[Path, render.Fonts] = {}


def fonts(cache_dir: Path) -> render.Fonts:
    """One font cache per process and directory (the subset's character map is read once)."""
    path = cache_dir.expanduser().resolve()
    return _FONTS.setdefault(path, render.Fonts(path))


def seal_passphrase(settings: Settings) -> bytes:
    if settings.seal_passphrase:
        return settings.seal_passphrase.encode()
    path = settings.resolved_data_dir / "seal.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        try:
            os.link(tmp, path)  # the first process to get here wins; the others read its secret
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


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
