"""Cases over the REST API: sources, filing, steps with the rules named in 422 answers and
audited, 403 for a role's limit, 404 outside the unit, 409 for a stale version, the calendar
and warnings. The data is committed (the web app has its own connections)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lawgrid.app import create_app
from tests.casework import ALL_CHECKS, REPORT, handlers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("users")


@pytest.fixture(scope="module")
def client(runtime):
    return create_app(runtime.settings, runtime).server.test_client()


@pytest.fixture(scope="module")
def tokens(client, users):
    out = {}
    for name in ("t-officer", "t-organ_head", "t-case_reviewer", "t-dispatcher", "t-oversight", "t-admin"):
        r = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        out[name] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    return out


def unit_id(engine, code: str) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT id FROM enforcement_unit WHERE code = :c"), {"c": code}).scalar_one()


def new_case(client, tokens, engine) -> dict:
    source = client.post(
        "/api/case-sources",
        json={
            "kind": "complaint",
            "unit_id": unit_id(engine, "U001"),
            "summary": "消费者投诉：超标价销售",
            "reporter": {"name": "王某", "phone": "13800000000", "real_name": True},
        },
        headers=tokens["t-dispatcher"],
    )
    assert source.status_code == 201, source.get_json()
    assert source.get_json()["accept_due"] and source.get_json()["verify_due"]
    with engine.connect() as c:
        officers = handlers(c)
        target = c.execute(text("SELECT id FROM target WHERE kind = 'entity' ORDER BY id LIMIT 1")).scalar_one()
    r = client.post(
        "/api/cases",
        json={
            "source_id": source.get_json()["id"],
            "item_code": "market_regulation.04",
            "officer_ids": officers,
            "party": {"kind": "legal", "name": "某超市有限公司"},
            "facts": "投诉核查",
            "act_continues": True,
            "act_continues_reason": "投诉时仍在持续",
        },
        headers=tokens["t-organ_head"],
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["case_no"].startswith("津滨U001立〔")
    del target
    return r.get_json()


def act(client, tokens, who: str, case: dict, action: str, **fields):
    return client.post(f"/api/cases/{case['id']}/actions", json={"action": action, **fields}, headers=tokens[who])


def test_a_case_over_the_api_with_an_early_decision_refused_and_audited(client, tokens, engine):
    case = new_case(client, tokens, engine)
    assert act(client, tokens, "t-officer", case, "start_investigation", rights_told=True).status_code == 200
    assert (
        act(client, tokens, "t-officer", case, "record_evidence", kind="现场笔录", description="现场检查").status_code
        == 200
    )
    assert act(client, tokens, "t-officer", case, "close_investigation", **REPORT).status_code == 200
    r = client.post(
        f"/api/cases/{case['id']}/reviews",
        json={"opinion": "agree", "checks": ALL_CHECKS, "discretion": "accept"},
        headers=tokens["t-case_reviewer"],
    )
    assert r.status_code == 201 and r.get_json()["status"] == "awaiting_approval"
    early = act(client, tokens, "t-organ_head", case, "decide", kind="penalty")
    assert early.status_code == 422
    body = early.get_json()
    assert body["rule"] == "notice_served" and body["violations"][0]["reason"].startswith("作出处罚决定前须告知")
    with engine.connect() as c:
        refused = c.execute(
            text("SELECT detail FROM audit_log WHERE action = 'refused' AND subject = :s ORDER BY id DESC LIMIT 1"),
            {"s": f"POST /api/cases/{case['id']}/actions"},
        ).scalar_one()
    assert refused["rule"] == "notice_served"
    view = client.get(f"/api/cases/{case['id']}?lang=en", headers=tokens["t-organ_head"]).get_json()
    assert {a["action"] for a in view["actions"] if a["allowed"]} == {"extend", "approve", "record_panel"}
    assert {c["clock"] for c in view["clocks"]} >= {"decide"}


def test_roles_scope_versions_and_bad_input(client, tokens, engine):
    case = new_case(client, tokens, engine)
    by_head = act(client, tokens, "t-organ_head", case, "start_investigation", rights_told=True)
    assert by_head.status_code == 403 and by_head.get_json()["rule"] == "role:case.handle"
    stale = act(client, tokens, "t-officer", case, "start_investigation", rights_told=True, version=case["version"] + 5)
    assert stale.status_code == 409 and stale.get_json()["rule"] == "stale_version"
    missing = act(client, tokens, "t-officer", case, "start_investigation")
    assert missing.status_code == 400 and missing.get_json()["errors"][0]["field"] == "rights_told"
    unknown = act(client, tokens, "t-officer", case, "fly_away")
    assert unknown.status_code == 400
    wrong_state = act(client, tokens, "t-officer", case, "serve")
    assert wrong_state.status_code == 409
    # another unit's organ head sees nothing of it
    with engine.begin() as c:
        if c.execute(text("SELECT 1 FROM app_user WHERE username = 't-head-u002'")).first() is None:
            from sqlalchemy.orm import Session

            from geo.access import accounts

            with Session(bind=c) as s:
                accounts.create_user(s, "t-head-u002", PASSWORD, "organ_head", ["U002"])
                s.flush()
    r = client.post("/api/auth/token", json={"username": "t-head-u002", "password": PASSWORD})
    other = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    assert client.get(f"/api/cases/{case['id']}", headers=other).status_code == 404
    assert client.get(f"/api/cases/{case['id']}", headers=tokens["t-oversight"]).status_code == 200


def test_lists_warnings_and_the_calendar(client, tokens, engine):
    new_case(client, tokens, engine)
    listing = client.get("/api/cases?status=filed", headers=tokens["t-oversight"]).get_json()
    assert listing["cases"] and all(c["status"] == "filed" for c in listing["cases"])
    dues = [c["next_due"] for c in listing["cases"] if c["next_due"]]
    assert dues == sorted(dues)
    assert client.get("/api/cases?warning=purple", headers=tokens["t-oversight"]).status_code == 400
    sources = client.get("/api/case-sources?status=filed", headers=tokens["t-oversight"]).get_json()["sources"]
    assert any(s["reporter_notify_due"] for s in sources)  # a real-name complainant is told
    board = client.get("/api/warnings", headers=tokens["t-oversight"])
    assert board.status_code == 200 and set(board.get_json()) == {"by_unit", "cases", "sources"}
    days = client.get("/api/calendar?start=2026-09-30&end=2026-10-11", headers=tokens["t-officer"]).get_json()
    assert [d["day"] for d in days["days"] if d["workday"]] == ["2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"]
    bad = client.get("/api/calendar?start=2026-10-11&end=2026-09-30", headers=tokens["t-officer"])
    assert bad.status_code == 400
    put = client.put(
        "/api/calendar", json={"days": [{"day": "2026-10-12", "workday": True}]}, headers=tokens["t-officer"]
    )
    assert put.status_code == 403


def test_an_unlawful_proposal_is_refused_over_the_api_with_its_rule_and_audited(client, tokens, engine):
    case = new_case(client, tokens, engine)
    act(client, tokens, "t-officer", case, "start_investigation", rights_told=True)
    act(client, tokens, "t-officer", case, "record_evidence", kind="书证", description="销售记录")
    over = {**REPORT, "proposed": {"kinds": ["fine"], "fine_yuan": 12000, "base_yuan": 2000}}  # 6 倍 > 价格法 5 倍
    r = act(client, tokens, "t-officer", case, "close_investigation", **over)
    assert r.status_code == 422
    assert r.get_json()["rule"] == "statutory_range" and r.get_json()["violations"][0]["reason"].startswith(
        "罚款超出法定幅度"
    )
    with engine.connect() as c:
        refused = c.execute(
            text("SELECT detail FROM audit_log WHERE action = 'refused' AND subject = :s ORDER BY id DESC LIMIT 1"),
            {"s": f"POST /api/cases/{case['id']}/actions"},
        ).scalar_one()
    assert refused["rule"] == "statutory_range"
    assert act(client, tokens, "t-officer", case, "close_investigation", **REPORT).status_code == 200
    view = client.get(f"/api/cases/{case['id']}", headers=tokens["t-case_reviewer"]).get_json()
    assert (view["discretion"]["level"], view["discretion"]["verdict"]) == ("一般", "ok")
    assert [t["id"] for t in view["item"]["tiers"]] == ["illegal_gains", "no_gains", "no_gains_grave", "serious"]
    unaccepted = client.post(
        f"/api/cases/{case['id']}/reviews",
        json={"opinion": "agree", "checks": ALL_CHECKS},
        headers=tokens["t-case_reviewer"],
    )
    assert unaccepted.status_code == 422 and unaccepted.get_json()["rule"] == "discretion_review"
    returned = client.post(
        f"/api/cases/{case['id']}/reviews",
        json={"opinion": "correct", "discretion": "return", "reasons": "违法所得计算有误"},
        headers=tokens["t-case_reviewer"],
    )
    assert returned.status_code == 201 and returned.get_json()["status"] == "investigating"
