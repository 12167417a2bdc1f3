"""What the commands share: the runtime on the configured database, the reference data, private files."""

from __future__ import annotations

import json

from lawgrid.settings import load_settings


def runtime(owner: bool = False):
    """The app role's connection; owner=True for maintenance (seed, imports, benchmarks)."""
    from lawgrid.runtime import open_runtime

    return open_runtime(load_settings(), owner=owner)


def ensure_reference(runtime) -> dict:
    from geo.places.reference import load_reference
    from lawgrid.runtime import REFERENCE_DIR

    with runtime.session() as session:
        return load_reference(session, REFERENCE_DIR)


def upgrade_and_load_reference(settings) -> None:
    """Migrate to the newest schema as the owner, grant the app role what it needs, then load
    the Binhai reference data if missing."""
    from geo.infra import db
    from lawgrid.runtime import database_urls, open_runtime

    owner, app = database_urls(settings)
    runtime = open_runtime(settings, owner=True)  # migrates and grants
    print("database schema is at", db.head_revision())
    if app != owner:
        from sqlalchemy.engine import make_url

        print(f"the web and ingest processes connect as role {make_url(app).username} (no ownership)")
    loaded = ensure_reference(runtime)
    print("reference data:", json.dumps(loaded, ensure_ascii=False))


def write_private(path, text: str) -> None:
    """A file only its owner can read (0600 from its creation, never world-readable)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
