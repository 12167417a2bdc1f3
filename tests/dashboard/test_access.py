"""Who may see and do what: every route and callback refuses anonymous callers, roles
and unit scopes hold, logins are throttled, tokens expire, CSRF is refused, all audited."""

import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from geo.access import accounts, policy
from geo.places import queries
from lawgrid.app import create_app
from lawgrid.runtime import Runtime
from lawgrid.settings import Settings
from tests.conftest import PASSWORD
from tests.webutil import ORIGIN, csrf_token, login

EXPECTED_PUBLIC = {"/login", "/api/auth/token", "/api/health"}


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime.settings, runtime)


@pytest.fixture
def anon(app):
    return app.server.test_client()


def concrete_paths(app):
    """Every registered route with sample values for its variables, and its methods."""
    for rule in app.server.url_map.iter_rules():
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)  # the first choice of an any() segment
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "x" if m.group(1) != "filename" else "x.js", path)
        yield rule, path, sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_public_routes_are_exactly_the_login_ones(app):
    from dashboard.auth import PUBLIC_PATHS

    assert PUBLIC_PATHS == EXPECTED_PUBLIC


def test_every_route_refuses_an_anonymous_caller(app, anon):
    checked = 0
    for rule, path, methods in concrete_paths(app):
        if path in EXPECTED_PUBLIC:
            continue
        for method in methods:
            response = anon.open(path, method=method, headers=ORIGIN)
            if method == "GET" and not path.startswith(("/api/", "/_dash-")):
                assert response.status_code == 302, (method, rule.rule)
                assert response.headers["Location"].startswith("/login")
            else:
                assert response.status_code == 401, (method, rule.rule, response.status_code)
            checked += 1
    assert checked >= 8


def test_every_dash_callback_refuses_an_anonymous_caller(app, anon, users):
    insider = app.server.test_client()
    login(insider, users["operator"], PASSWORD)
    callbacks = insider.get("/_dash-dependencies").get_json()
    assert anon.get("/_dash-dependencies").status_code == 401
    assert len(callbacks) >= 3
    for output in (c["output"] for c in callbacks):
        response = anon.post(
            "/_dash-update-component",
            headers=ORIGIN,
            json={"output": output, "outputs": [], "inputs": [], "changedPropIds": []},
        )
        assert response.status_code == 401, output


def test_role_restricted_routes_refuse_other_roles(app, users):
    def roles_of(rule):
        permission = getattr(app.server.view_functions.get(rule.endpoint), "lawgrid_permission", None)
        return policy.PERMISSIONS[permission] if permission else None

    restricted = [
        (rule, path, methods, roles_of(rule))
        for rule, path, methods in concrete_paths(app)
        if roles_of(rule) and len(roles_of(rule)) < len(accounts.ROLES)
    ]
    assert {rule.rule for rule, *_ in restricted} >= {"/api/audit", "/api/ingest/stats"}
    for role, username in users.items():
        client = app.server.test_client()
        assert login(client, username, PASSWORD).status_code == 302
        headers = {**ORIGIN, "X-CSRF-Token": csrf_token(client)}
        for rule, _path, methods, roles in restricted:
            for method in methods:
                sample = re.sub(r"<id:[^>]+>", "1", rule.rule)  # ids as ids: the route, not a 404, is judged
                sample = re.sub(r"<int:[^>]+>", "2025", sample)  # a year
                sample = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", sample)
                sample = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", sample)
                status = client.open(
                    sample.replace("/x/", "/1/").replace("/x", "/ack"),
                    method=method,
                    json={"comment": "c"},
                    headers=headers,
                ).status_code
                if role in roles:
                    assert status not in (401, 403), (role, method, rule.rule, status)
                else:
                    assert status == 403, (role, method, rule.rule, status)


def test_unit_scope_is_applied_in_the_data_layer(session, users):
    dispatcher = accounts.scope_for(
        session,
        session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": users["dispatcher"]}).scalar(),
    )
    leader = accounts.scope_for(
        session, session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": users["leader"]}).scalar()
    )
    unit_officers = session.execute(
        text("SELECT count(*) FROM officer o JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code = 'U001'")
    ).scalar()
    assert 0 < unit_officers
    assert queries.registry_counts(session, dispatcher)["officer"] == unit_officers
    assert queries.registry_counts(session, dispatcher)["device"] == 2 * unit_officers
    total = session.execute(text("SELECT count(*) FROM officer")).scalar()
    assert queries.registry_counts(session, leader)["officer"] == total > unit_officers


def test_wrong_password_then_throttle_per_account(app):
    client = app.server.test_client()
    with app.server.extensions["lawgrid"].session() as s:
        accounts.create_user(s, "t-throttle", PASSWORD, "leader")
    here = {"REMOTE_ADDR": "10.5.5.5"}
    for _ in range(accounts.THROTTLE_FAILURES):
        r = client.post("/api/auth/token", json={"username": "t-throttle", "password": "nope"}, environ_base=here)
        assert r.status_code == 401 and r.get_json()["detail"] == "wrong username or password"
    r = client.post("/api/auth/token", json={"username": "t-throttle", "password": PASSWORD}, environ_base=here)
    assert r.status_code == 429
    assert re.match(r"too many failed logins; try again in \d+ minutes", r.get_json()["detail"])
    page = login(client, "t-throttle", "nope", address="10.5.5.5")  # the guessing address, on the page too
    assert page.status_code == 401 and "登录失败次数过多" in page.get_data(as_text=True)
    # the owner elsewhere is stepped up (a slower try), never refused with the right password
    assert login(client, "t-throttle", PASSWORD, address="10.9.9.9").status_code == 302


def test_throttle_per_address(app, users):
    client = app.server.test_client()
    for i in range(accounts.THROTTLE_FAILURES_PER_ADDRESS):
        login(client, f"nobody-{i}", "x", address="10.1.2.3")
    assert login(client, users["leader"], PASSWORD, address="10.1.2.3").status_code == 401
    assert login(client, users["leader"], PASSWORD, address="10.1.2.4").status_code == 302


def test_tokens_work_and_expire(runtime, users):
    short = Runtime(
        Settings(database_url=runtime.url, secret_key="k", token_ttl_seconds=1),
        runtime.url,
        runtime.engine,
        runtime.sessions,
    )
    client = create_app(short.settings, short).server.test_client()
    r = client.post("/api/auth/token", json={"username": users["auditor"], "password": PASSWORD})
    token = r.get_json()["access_token"]
    assert client.get("/api/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/audit", headers={"Authorization": "Bearer forged"}).status_code == 401
    time.sleep(2.2)
    expired = client.get("/api/audit", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]


def test_bad_token_request_is_a_400(anon):
    r = anon.post("/api/auth/token", data="not json", content_type="text/plain")
    assert r.status_code == 400 and r.get_json()["error"] == "bad_request"


def test_csrf_is_refused(app, users):
    client = app.server.test_client()
    login(client, users["operator"], PASSWORD)
    # A form post without the token, and a callback from another origin.
    assert client.post("/logout", headers=ORIGIN).status_code == 403
    evil = {"Origin": "http://evil.example"}
    assert client.post("/_dash-update-component", headers=evil, json={}).status_code == 403
    # With the token the logout works and the session is gone.
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf": token}, headers=ORIGIN).status_code == 302
    assert client.get("/api/townships").status_code == 401


def test_session_cookie_is_hardened(app, users):
    client = app.server.test_client()
    response = login(client, users["operator"], PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_logins_and_failures_are_audited(app, users):
    client = app.server.test_client()
    login(client, users["supervisor"], "wrong-password", address="10.7.7.7")
    login(client, users["supervisor"], PASSWORD, address="10.7.7.8")
    auditor = app.server.test_client()
    login(auditor, users["auditor"], PASSWORD)
    entries = auditor.get(f"/api/audit?actor={users['supervisor']}").get_json()["entries"]
    actions = [(e["action"], e["source"]) for e in entries]
    assert ("login_failed", "10.7.7.7") in actions and ("login", "10.7.7.8") in actions
    bad = auditor.get("/api/audit?start=yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.get_json()["detail"]


def test_idle_session_times_out(runtime, users):
    short = Runtime(
        Settings(database_url=runtime.url, secret_key="k", idle_timeout_minutes=0),
        runtime.url,
        runtime.engine,
        runtime.sessions,
    )
    client = create_app(short.settings, short).server.test_client()
    login(client, users["leader"], PASSWORD)
    time.sleep(0.05)
    assert client.get("/api/townships").status_code == 401


def test_user_add_from_the_command_line(db_url):
    import os

    env = {**os.environ, "LAWGRID_DATABASE_URL": db_url}

    def run(*a, stdin):
        return subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", "user", "add", *a],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
        )

    ok = run("t-cli-disp", "--role", "dispatcher", "--unit", "U002", stdin="a-long-password\n")
    assert ok.returncode == 0, ok.stderr
    short = run("t-cli-2", "--role", "leader", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    nounit = run("t-cli-3", "--role", "dispatcher", stdin="a-long-password\n")
    assert nounit.returncode == 1 and "--unit" in nounit.stderr
    badrole = run("t-cli-4", "--role", "king", stdin="a-long-password\n")
    assert badrole.returncode == 1 and "unknown role" in badrole.stderr


def test_audit_page_is_for_auditors_only(app, users):
    deps_client = app.server.test_client()
    login(deps_client, users["auditor"], PASSWORD)
    outputs = [
        ("audit-table", "data"),
        ("audit-table", "columns"),
        ("audit-count", "children"),
        ("audit-heading", "children"),
        ("audit-action", "options"),
        ("audit-actor", "placeholder"),
        ("audit-subject", "placeholder"),
        ("audit-action", "placeholder"),
    ]
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "audit-actor", "property": "value", "value": users["auditor"]},
            {"id": "audit-action", "property": "value", "value": None},
            {"id": "audit-subject", "property": "value", "value": None},
            {"id": "audit-dates", "property": "start_date", "value": None},
            {"id": "audit-dates", "property": "end_date", "value": None},
            {"id": "lang", "property": "data", "value": "en"},
        ],
        "changedPropIds": ["audit-actor.value"],
    }
    ok = deps_client.post("/_dash-update-component", json=payload, headers=ORIGIN)
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    rows = ok.get_json()["response"]["audit-table"]["data"]
    assert rows and all(r["actor"] == users["auditor"] for r in rows)
    operator = app.server.test_client()
    login(operator, users["operator"], PASSWORD)
    assert operator.post("/_dash-update-component", json=payload, headers=ORIGIN).status_code == 403


@pytest.fixture
def foreign_objects(engine):
    """One object of each kind that belongs to a unit other than U001 (the scoped dispatcher's
    and supervisor's): a device, an open alarm on it, a task and a random plan. Removed after."""
    with engine.begin() as c:
        unit, device, officer = c.execute(
            text(
                """SELECT o.unit_id, d.id, o.id FROM device d JOIN officer o ON o.id = d.officer_id
                   JOIN enforcement_unit u ON u.id = o.unit_id WHERE u.code <> 'U001' ORDER BY d.id LIMIT 1"""
            )
        ).one()
        alarm = c.execute(
            text(
                "INSERT INTO alarm (device_id, officer_id, kind, at, status) "
                "VALUES (:d, :o, 'low_battery', now(), 'open') RETURNING id"
            ),
            {"d": device, "o": officer},
        ).scalar()
        plan = c.execute(
            text(
                "INSERT INTO random_plan (name, seed, share, due_at, created_by) "
                "VALUES ('foreign', 's', 0.1, now(), 'scope-test') RETURNING id"
            )
        ).scalar()
        task = c.execute(
            text(
                "INSERT INTO inspection (target_id, domain_key, source, plan_id, due_at, created_by, unit_id, status) "
                "SELECT 1, p.domain_key, 'plan', :p, now(), 'scope-test', :u, 'assigned' FROM power_item p "
                "WHERE p.unit_id = :u LIMIT 1 RETURNING id"
            ),
            {"p": plan, "u": unit},
        ).scalar()
    yield {"device_id": device, "alarm_id": alarm, "task_id": task, "plan_id": plan}
    with engine.begin() as c:
        c.execute(text("DELETE FROM inspection_event WHERE inspection_id = :t"), {"t": task})
        c.execute(text("DELETE FROM inspection WHERE id = :t"), {"t": task})
        c.execute(text("DELETE FROM random_plan WHERE id = :p"), {"p": plan})
        c.execute(text("DELETE FROM alarm WHERE id = :a"), {"a": alarm})


BODIES = {
    "ack": {"comment": "c"},
    "resolve": {"comment": "c"},
    "assign": {"officer_ids": [1, 2]},
    "reassign": {"officer_ids": [1, 2], "reason": "scope test"},
    "status": {"status": "cancelled", "reason": "scope test"},
    "checklist": {"results": {}},
    "evidence": {"kind": "note", "note": "scope test", "taken_at": "2026-12-02T10:00:00+08:00"},
}


def test_every_route_taking_an_id_refuses_another_units_object(app, users, foreign_objects):
    """Walk every API route whose path names an object, with another unit's object, as the
    unit-scoped dispatcher and supervisor: not found (or forbidden by role), never shown."""
    walked = set()
    for role in ("dispatcher", "supervisor"):
        client = app.server.test_client()
        assert login(client, users[role], PASSWORD).status_code == 302
        headers = {**ORIGIN, "X-CSRF-Token": csrf_token(client)}
        for rule in app.server.url_map.iter_rules():
            names = set(re.findall(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", rule.rule)) & set(foreign_objects)
            if not rule.rule.startswith("/api/") or not names:
                continue
            path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(foreign_objects[m.group(1)]), path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                body = BODIES.get(path.rsplit("/", 1)[-1], {})  # valid, so the scope is what is judged
                r = client.open(path, method=method, json=body, headers=headers)
                assert r.status_code in (403, 404), (role, method, path, r.status_code, r.get_data(as_text=True)[:200])
                walked.add((method, rule.rule))
    assert len(walked) >= 7  # track, alarm ack/resolve, task, candidates, assign, status, plan CSV


def test_an_id_out_of_range_is_a_json_404_for_every_method(app, users):
    """An id no bigint holds (or 0) names nothing: a JSON 404 whatever the method, never a 405 or
    an HTML page (found by the schemathesis fuzz: PATCH /api/documents/<29 digits> answered 405)."""
    client = app.server.test_client()
    answer = client.post("/api/auth/token", json={"username": users["admin"], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    for method in ("get", "patch", "post", "delete"):
        for doc_id in ("98221811216663777496247828489", "0"):
            found = getattr(client, method)(f"/api/documents/{doc_id}", headers=headers, json={})
            assert found.status_code == 404, (method, doc_id, found.status_code)
            assert found.get_json()["error"] == "not_found"


def test_a_nul_in_a_document_field_is_named_and_no_database_message_is_echoed(app, users):
    client = app.server.test_client()
    token = client.post("/api/auth/token", json={"username": "t-officer", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    answer = client.post(
        "/api/documents",
        json={"template": "onsite_record", "inspection_id": 1, "fields": {"place": "店\u0000内"}},
        headers=headers,
    )
    assert answer.status_code == 400
    assert [e["field"] for e in answer.get_json()["errors"]] == ["fields.place"]
    assert "byte sequence" not in answer.get_data(as_text=True)  # PostgreSQL's words never reach the caller
