"""One policy decides who may do what, for the API, the pages and the CLI; every refusal (a
role, a unit's scope, a rule, a race) is audited with the actor, the address and the rule."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from geo.access import accounts, policy
from geo.infra.errors import Forbidden, NotFound, Unauthorized
from lawgrid.app import create_app
from tests.conftest import PASSWORD

ADDRESS = {"REMOTE_ADDR": "10.42.0.7"}


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime.settings, runtime)


def bearer(app, username: str) -> dict[str, str]:
    r = app.server.test_client().post("/api/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def refusals(engine, actor: str, marker: str) -> list[dict]:
    with engine.connect() as c:
        return [
            dict(r._mapping)
            for r in c.execute(
                text(
                    "SELECT actor, subject, source, detail FROM audit_log WHERE action = 'refused' "
                    "AND actor = :a AND subject LIKE :m ORDER BY id"
                ),
                {"a": actor, "m": f"%{marker}%"},
            )
        ]


def test_permissions_by_role():
    def scope(role):
        return accounts.Scope(1, "x", role, frozenset({1}) if role in accounts.UNIT_SCOPED_ROLES else None)

    assert policy.allowed(scope("operator"), "task.create") and not policy.allowed(scope("operator"), "task.assign")
    assert policy.allowed(scope("dispatcher"), "task.assign") and not policy.allowed(scope("dispatcher"), "audit.read")
    assert [r for r in accounts.ROLES if policy.allowed(scope(r), "task.override")] == ["admin"]
    assert all(policy.allowed(scope(r), "view") for r in accounts.ROLES)
    with pytest.raises(Unauthorized):
        policy.authorize(None, "view")
    with pytest.raises(Forbidden) as refused:
        policy.authorize(scope("leader"), "alarm.act")
    assert refused.value.status == 403 and refused.value.rule == "role:alarm.act"
    with pytest.raises(KeyError):
        policy.authorize(scope("admin"), "no.such.permission")


def test_another_units_task_is_not_found_inside_the_core(session, users):
    uid = session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": users["dispatcher"]}).scalar()
    dispatcher = accounts.scope_for(session, uid)
    other = session.execute(text("SELECT id FROM enforcement_unit WHERE code <> 'U001' ORDER BY id LIMIT 1")).scalar()
    task = session.execute(
        text(
            "INSERT INTO inspection (target_id, domain_key, source, due_at, created_by, unit_id) "
            "SELECT 1, 'market_regulation', 'api', now(), 'policy-test', :u RETURNING id"
        ),
        {"u": other},
    ).scalar()
    with pytest.raises(NotFound) as hidden:
        policy.task_in_scope(session, dispatcher, task)
    assert hidden.value.rule == "unit_scope"
    policy.task_in_scope(session, policy.system_scope("cli"), task)  # district-wide: found


def test_refusals_over_the_api_are_audited_with_actor_address_and_rule(app, engine, users):
    client = app.server.test_client()
    marker = uuid.uuid4().hex[:8]
    leader = bearer(app, users["leader"])
    r = client.post("/api/alarms/1/ack", json={}, headers=leader, environ_base=ADDRESS)
    assert r.status_code == 403 and r.get_json()["rule"] == "role:alarm.act"
    (entry,) = refusals(engine, users["leader"], "/api/alarms/")[-1:]
    assert entry["source"] == "10.42.0.7" and entry["detail"]["rule"] == "role:alarm.act"
    assert entry["detail"]["status"] == 403

    # Another unit's task is a 404 to a unit-scoped dispatcher, and the attempt is on record.
    with engine.begin() as c:
        other = c.execute(text("SELECT id FROM enforcement_unit WHERE code <> 'U001' ORDER BY id LIMIT 1")).scalar()
        task = c.execute(
            text(
                "INSERT INTO inspection (target_id, domain_key, source, due_at, created_by, unit_id) "
                "SELECT 1, 'market_regulation', 'api', now(), :m, :u RETURNING id"
            ),
            {"m": marker, "u": other},
        ).scalar()
    try:
        dispatcher = bearer(app, users["dispatcher"])
        r = client.get(f"/api/inspections/{task}", headers=dispatcher, environ_base=ADDRESS)
        assert r.status_code == 404 and r.get_json()["rule"] == "unit_scope"
        (entry,) = refusals(engine, users["dispatcher"], f"/api/inspections/{task}")
        assert entry["detail"]["rule"] == "unit_scope" and entry["source"] == "10.42.0.7"
        # A race lost (the task is no longer assignable) is a 409, also on record.
        with engine.begin() as c:
            c.execute(text("UPDATE inspection SET status = 'cancelled' WHERE id = :t"), {"t": task})
        admin = bearer(app, users["admin"])
        r = client.post(f"/api/inspections/{task}/assign", json={"officer_ids": [1, 2]}, headers=admin)
        assert r.status_code == 409
        assert refusals(engine, users["admin"], f"/api/inspections/{task}/assign")[0]["detail"]["status"] == 409
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM inspection_event WHERE inspection_id = :t"), {"t": task})
            c.execute(text("DELETE FROM inspection WHERE id = :t"), {"t": task})


def test_bad_input_is_a_400_naming_each_field_and_not_audited_as_a_refusal(app, engine, users):
    client = app.server.test_client()
    admin = bearer(app, users["admin"])
    r = client.post(
        "/api/inspections", json={"target_id": "seven", "domain": "x\u0000y", "due_at": "soon"}, headers=admin
    )
    body = r.get_json()
    assert r.status_code == 400 and body["error"] == "bad_request"
    assert {e["field"] for e in body["errors"]} == {"target_id", "domain", "due_at"}
    assert "due_at must be an ISO 8601 time" in body["detail"]
    for payload in ([1, 2], "text", 7):
        r = client.post("/api/inspections", json=payload, headers=admin)
        assert r.status_code == 400 and "JSON object" in r.get_json()["detail"]
