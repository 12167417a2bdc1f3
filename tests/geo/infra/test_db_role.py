"""The app connects as a role that owns nothing: it cannot rewrite or erase the audit trail,
switch its trigger off or change the replication role, yet everything the web and ingest
processes do works with it, partition maintenance included."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import make_server

from geo.infra import db
from lawgrid.app import create_app
from lawgrid.runtime import Runtime
from lawgrid.settings import Settings
from tests.conftest import PASSWORD

ROLE = "lawgrid_app"


@pytest.fixture(scope="module")
def app_url(db_url) -> str:
    db.grant_app_role(db_url, ROLE)  # what `lawgrid db upgrade` does after migrating
    return make_url(db_url).set(username=ROLE).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def app_engine(app_url):
    engine = db.make_engine(app_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        "DROP TABLE audit_log",
        "CREATE TRIGGER t BEFORE INSERT ON audit_log FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    ],
)
def test_the_app_role_cannot_rewrite_history(app_engine, statement):
    with app_engine.connect() as conn:
        with pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
        assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
        conn.rollback()


def test_the_app_role_appends_reads_and_maintains_partitions(app_engine):
    with app_engine.begin() as conn:
        assert not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        conn.execute(text("INSERT INTO audit_log (actor, action, source) VALUES ('role-test', 'probe', 'test')"))
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE actor = 'role-test'")).scalar() >= 1
        far = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
        conn.execute(text("SELECT lawgrid_ensure_position_partitions(:t, 1)"), {"t": far})
        owned = conn.execute(
            text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user")
        ).scalar()
        assert owned == 0  # the partition belongs to the owner, not to the app


def test_the_web_app_works_as_the_app_role(app_url, app_engine, users, tmp_path):
    settings = Settings(database_url=app_url, secret_key="role", data_dir=tmp_path)
    app = create_app(settings, Runtime(settings, app_url, app_engine, db.make_sessionmaker(app_engine)))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        r = requests.post(base + "/api/auth/token", json={"username": users["admin"], "password": PASSWORD}, timeout=10)
        assert r.status_code == 200
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for path in ("/api/townships", "/api/alarms", "/api/inspections", "/api/coverage", "/api/audit?limit=5"):
            assert requests.get(base + path, headers=auth, timeout=30).status_code == 200, path
        feature = requests.get(base + "/api/targets?limit=1", headers=auth, timeout=10).json()["features"][0]
        target = feature["properties"]["id"]
        domain = feature["properties"]["domains"][0]
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
        created = requests.post(
            base + "/api/inspections",
            json={"target_id": target, "domain": domain, "due_at": due},
            headers=auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        task = created.json()["id"]
        cancel = requests.post(
            base + f"/api/inspections/{task}/status",
            json={"status": "cancelled", "reason": "测试结束"},
            headers=auth,
            timeout=10,
        )
        assert cancel.status_code == 200
    finally:
        server.shutdown()
