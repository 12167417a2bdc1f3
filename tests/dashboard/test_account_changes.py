"""Accounts changed by an administrator (issue 34, item 4): role, units, officer link and the
法律职业资格 number, with the rules of creating one, over the API and on the 账户 page; the
account's sessions end and the change is audited; nobody changes his own role."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from geo.access import accounts
from tests.conftest import PASSWORD
from tests.webutil import browser_login

pytestmark = pytest.mark.usefixtures("users")


@pytest.fixture
def person(engine):
    name = f"t-acc-{uuid.uuid4().hex[:8]}"
    from geo.infra import db

    with db.session_scope(db.make_sessionmaker(engine)) as s:
        accounts.create_user(s, name, PASSWORD, "case_reviewer", ["U001"])
    return name


def token(client, name: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={"username": name, "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_an_administrator_changes_an_account_by_the_rules(live_app, person, engine):
    client = live_app["app"].server.test_client()
    admin, theirs = token(client, "t-admin"), token(client, person)
    assert client.get("/api/cases", headers=theirs).status_code == 200
    changed = client.patch(
        f"/api/users/{person}",
        json={"role": "legal_reviewer", "legal_qualification_no": "a20231200777"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["changed"]["role"] == {"from": "case_reviewer", "to": "legal_reviewer"}
    assert client.get("/api/cases", headers=theirs).status_code == 401  # his old token carried the old scope
    with engine.connect() as c:
        row = c.execute(
            text("SELECT role, legal_qualification_no FROM app_user WHERE username = :u"), {"u": person}
        ).one()
        audited = c.execute(
            text("SELECT detail FROM audit_log WHERE action = 'user_change' AND subject = :s"), {"s": f"user:{person}"}
        ).scalar()
    assert tuple(row) == ("legal_reviewer", "A20231200777") and audited["role"]["to"] == "legal_reviewer"
    for body, said in (
        ({"role": "officer"}, "certificate"),  # an officer names his certificate
        ({"role": "leader", "units": ["U001"]}, "district-wide"),
        ({"legal_qualification_no": "x"}, "6-30"),
        ({"units": ["NOPE"]}, "unknown enforcement unit"),
    ):
        refused = client.patch(f"/api/users/{person}", json=body, headers=admin)
        assert refused.status_code == 400 and said in refused.get_json()["detail"], (body, refused.get_json())
    assert (
        client.patch(f"/api/users/{person}", json={"role": "admin"}, headers=token(client, "t-dispatcher")).status_code
        == 403
    )
    own = client.patch("/api/users/t-admin", json={"role": "leader"}, headers=admin)
    assert own.status_code == 409 and own.get_json()["rule"] == "own_account"


def test_the_accounts_page_sets_a_reviewers_qualification(browser, live_app, person, engine):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    browser_login(page, live_app["url"], "t-admin", PASSWORD)
    page.goto(live_app["url"] + "/accounts")
    page.click("#account-edit-user")
    page.get_by_role("option", name=person, exact=True).click()
    page.locator("#account-edit-role").filter(has_text="案件审核").wait_for()  # his account, loaded
    page.click("#account-edit-role")
    page.get_by_role("option", name="法制审核人员").click()
    page.locator("#account-edit-qualification").fill("A20231201234")
    page.click("#account-edit-save")
    page.locator("#account-edit-ok").wait_for()
    with engine.connect() as c:
        row = c.execute(
            text("SELECT role, legal_qualification_no FROM app_user WHERE username = :u"), {"u": person}
        ).one()
    assert tuple(row) == ("legal_reviewer", "A20231201234")
    page.close()
