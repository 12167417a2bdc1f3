"""While the database cannot be reached, every answer says so (issue 33, item 5): /api/health
answers 503 naming the database, an API call a 503 JSON, a page a 503 page, never a bare 500."""

from __future__ import annotations

import socket
import time

import pytest

from geo.infra import db
from lawgrid.app import create_app
from lawgrid.runtime import Runtime
from lawgrid.settings import Settings


@pytest.fixture
def down(runtime, tmp_path):
    """The app over a database address where nothing listens (a server that went away)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free: nothing will answer there
    url = f"postgresql+psycopg://lawgrid@127.0.0.1:{port}/lawgrid?connect_timeout=2"
    settings = Settings(database_url=url, secret_key="down-secret", data_dir=tmp_path, case_sweep_interval_s=0)
    engine = db.make_engine(url)
    app = create_app(settings, Runtime(settings, url, engine, db.make_sessionmaker(engine)))
    yield app.server.test_client()
    app.server.extensions["lawgrid_live"].stop()  # its threads end with it
    engine.dispose()


def test_health_names_the_database_and_nothing_answers_a_bare_500(down):
    health = down.get("/api/health")
    assert health.status_code == 503
    body = health.get_json()
    assert body["rule"] == "database" and body["status_of"] == {"service": "up", "database": "unreachable"}
    login = down.post("/api/auth/token", json={"username": "t-admin", "password": "whatever-it-is"})
    assert login.status_code == 503 and login.get_json()["error"] == "unavailable"
    assert login.headers["Retry-After"] == "5"
    with down.session_transaction() as cookie:  # a user logged in before the database went away
        cookie.update(uid=1, sv=0, seen=time.time(), csrf="x")
    page = down.get("/cases")
    assert page.status_code == 503 and "数据库暂时无法连接" in page.get_data(as_text=True)
