"""Test fixtures on a real PostGIS: the embedded cluster (or LAWGRID_TEST_DATABASE_URL).

No PostGIS means errors, never skips: a suite that silently skipped its database tests
would pass without testing anything."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from demo.seed import seed_all, seed_inspection_history
from geo.coverage import facts
from geo.infra import db
from geo.places.reference import load_reference
from ingest.service import IngestConfig, IngestService
from lawgrid.app import create_app
from lawgrid.embedded_db import EmbeddedCluster, normalise_url
from lawgrid.runtime import REFERENCE_DIR, Runtime
from lawgrid.settings import REPO_ROOT, Settings

ARTIFACTS = REPO_ROOT / "test-artifacts"
SEAL_PASSPHRASE = "test-seal-passphrase"  # every test process seals with the same keys
SEED_TARGETS = 3_000
SEED_OFFICERS = 300


class Databases:
    """Creates throw-away databases on the test server."""

    def __init__(self):
        external = os.environ.get("LAWGRID_TEST_DATABASE_URL")
        self.cluster = None
        if external:
            self.base_url = make_url(normalise_url(external))
        else:
            data_dir = Path(os.environ.get("LAWGRID_DATA_DIR", REPO_ROOT / "data"))
            self.cluster = EmbeddedCluster(data_dir)
            self.started_here = not self.cluster.running()
            self.base_url = make_url(self.cluster.start())

    def fresh(self, name: str) -> str:
        if self.cluster:
            self.cluster.drop_database(name)
            self.cluster.ensure_database(name)
        else:
            admin = db.make_engine(self.base_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
        url = self.base_url.set(database=name).render_as_string(hide_password=False)
        engine = db.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
        return url


@pytest.fixture(scope="session")
def databases():
    dbs = Databases()
    yield dbs
    # Leave no server behind in a checkout that may be deleted (CI clones): a postmaster
    # whose directory vanished would fight a new one over the same socket path.
    if dbs.cluster and dbs.started_here:
        dbs.cluster.stop()


@pytest.fixture(scope="session")
def db_url(databases) -> str:
    """The shared test database: migrated, Binhai reference data, a small synthetic registry."""
    url = databases.fresh("lawgrid_test")
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(engine)) as session:
        load_reference(session, REFERENCE_DIR)  # the package's schedule, then provisional days (no placeholders)
        seed_all(session, targets=SEED_TARGETS, officers=SEED_OFFICERS, seed=11, progress=False)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(db_url):
    from tests import webutil

    engine = db.make_engine(db_url)
    webutil.ENGINE = engine  # the devices' credentials (终端ID, keys) are read from it
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    s = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def runtime(db_url, engine) -> Runtime:
    settings = Settings(database_url=db_url, secret_key="test-secret", seal_passphrase=SEAL_PASSPHRASE)
    return Runtime(settings, db_url, engine, db.make_sessionmaker(engine))


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed (make test installs the Debian package 'chromium')")
    return path


# What a test needs, read from the fixtures it uses (directly or through others), so the marks
# cannot drift from the tests: `make test-fast` runs the `fast` ones (no database, no server).
NEEDS_SERVERS = {"live_app", "fuzz_server", "processes", "production", "broker", "redis_url", "service_factory"}
NEEDS_POSTGIS = {"databases", "own_cluster"}


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if fixtures & NEEDS_SERVERS:
            item.add_marker(pytest.mark.servers)
        if fixtures & NEEDS_POSTGIS:
            item.add_marker(pytest.mark.postgis)
        if not any(item.get_closest_marker(m) for m in ("browser", "servers", "postgis")):
            item.add_marker(pytest.mark.fast)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can screenshot failures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def users(engine) -> dict[str, str]:
    """One committed account per role (dispatcher and supervisor scoped to unit U001)."""
    from geo.access import accounts

    names = {}
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        certs = officer_certs(s, "U001", 2)
        for role in accounts.ROLES:
            units = ["U001"] if role in accounts.UNIT_SCOPED_ROLES else []
            extra = {}
            if role == "officer":
                units, extra = [], {"officer_cert": certs[0]}
            if role == "legal_reviewer":
                extra = {"legal_qualification_no": "A20231200001"}
            accounts.create_user(s, f"t-{role}", PASSWORD, role, units, **extra)
            names[role] = f"t-{role}"
        # the second handler of the test cases (not a role of its own, so not in the mapping)
        accounts.create_user(s, "t-officer2", PASSWORD, "officer", officer_cert=certs[1])
    return names


def officer_certs(s, unit_code: str, n: int) -> list[str]:
    """Certificates of officers of a unit valid for the next year, lowest ids first."""
    return list(
        s.execute(
            text(
                "SELECT o.cert_no FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = :u "
                "AND current_date + 365 BETWEEN o.cert_valid_from AND o.cert_valid_to ORDER BY o.id LIMIT :n"
            ),
            {"u": unit_code, "n": n},
        ).scalars()
    )


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.webutil import CHROMIUM_ARGS, PATIENCE_MS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        # Every wait of every page is bounded by the patience only (a condition that is never
        # met still fails), not by Playwright's 30 s, which a busy machine can exceed.
        expect.set_options(timeout=PATIENCE_MS)
        new_context = browser.new_context

        def patient_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            context.set_default_timeout(PATIENCE_MS)
            return context

        def patient_page(*args, **kwargs):
            page = patient_context(*args, **kwargs).new_page()
            return page

        browser.new_context = patient_context
        browser.new_page = patient_page
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_app(runtime, users, tmp_path_factory):
    """The web app with its device listeners on free ports, served on a real socket."""
    settings = Settings(
        database_url=runtime.url,
        secret_key="live-secret",
        seal_passphrase=SEAL_PASSPHRASE,
        ingest_host="127.0.0.1",
        jt808_port=0,
        osmand_port=0,
        data_dir=tmp_path_factory.mktemp("live"),
    )
    rt = Runtime(settings, runtime.url, runtime.engine, runtime.sessions)
    app = create_app(settings, rt, with_ingest=True)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ingest = app.server.extensions["lawgrid_ingest"]
    yield {
        "url": f"http://127.0.0.1:{server.server_port}",
        "app": app,
        "jt808": ingest.service.jt808.port,
        "osmand": ingest.service.osmand.port,
    }
    server.shutdown()
    ingest.stop()


@pytest.fixture
def inspection_history(engine):
    """Two thousand completed inspections over the last 90 days, committed for the web app,
    with their coverage facts; removed afterwards."""
    with Session(engine) as s:
        first = s.execute(text("SELECT coalesce(max(id), 0) FROM inspection")).scalar_one()
        seed_inspection_history(s, 2000, end=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), days=90, progress=False)
        facts.rebuild(s)
        s.commit()
    yield
    with Session(engine) as s:
        s.execute(text("DELETE FROM inspection_officer WHERE inspection_id > :f"), {"f": first})
        s.execute(text("DELETE FROM inspection WHERE id > :f"), {"f": first})
        facts.rebuild(s)
        s.commit()


@pytest.fixture
def service_factory(engine, tmp_path):
    """Start device listeners on free ports, writing to the test database (stop them in the test)."""
    started = []

    async def make(**kw):
        config = IngestConfig(
            dsn=db.raw_psycopg_url(engine),
            spool_path=tmp_path / "spool.jsonl",
            host="127.0.0.1",
            jt808_port=0,
            osmand_port=0,
            **kw,
        )
        service = IngestService(config, db.make_sessionmaker(engine))
        await service.start()
        started.append(service)
        return service

    yield make
    # Services are stopped inside each test's loop.
