"""Sessions and tokens end when they should: logout, a password change and disabling an
account end every session and token of that user at once, a copied cookie included; weak
passwords are refused with the reason; administrators and the CLI manage accounts."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests
from sqlalchemy import text

from geo.access import accounts
from lawgrid.app import create_app
from tests.conftest import PASSWORD
from tests.webutil import ORIGIN, csrf_token, login


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime.settings, runtime)


@pytest.fixture
def person(app):
    """A fresh leader account of this test's own."""
    name = f"t-sess-{uuid.uuid4().hex[:8]}"
    with app.server.extensions["lawgrid"].session() as s:
        accounts.create_user(s, name, PASSWORD, "leader")
    return name


def token(app, name, password=PASSWORD):
    r = app.server.test_client().post("/api/auth/token", json={"username": name, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def test_logout_ends_every_session_and_token_a_copied_cookie_too(app, person):
    browser = app.server.test_client()
    assert login(browser, person, PASSWORD).status_code == 302
    thief = app.server.test_client()
    cookie = browser.get_cookie("lawgrid_session")
    thief.set_cookie("lawgrid_session", cookie.value)  # copied before logout
    assert thief.get("/api/townships").status_code == 200
    bearer = token(app, person)
    assert browser.post("/logout", data={"csrf": csrf_token(browser)}, headers=ORIGIN).status_code == 302
    assert thief.get("/api/townships").status_code == 401
    assert thief.get("/").status_code == 302  # back to the login page
    r = app.server.test_client().get("/api/townships", headers=bearer)
    assert r.status_code == 401 and "logged out" in r.get_json()["detail"]
    assert token(app, person)  # logging in again works


def test_api_logout_ends_the_tokens(app, person):
    first, second = token(app, person), token(app, person)
    client = app.server.test_client()
    assert client.post("/api/auth/logout", headers=first).get_json() == {"ended": True}
    assert client.get("/api/alarms", headers=second).status_code == 401


def test_a_password_change_ends_sessions_and_weak_passwords_are_refused(app, person):
    client = app.server.test_client()
    old = token(app, person)
    weak = client.post("/api/auth/password", json={"current": PASSWORD, "new": "password12"}, headers=old)
    assert weak.status_code == 400 and "too easy to guess" in weak.get_json()["detail"]
    short = client.post("/api/auth/password", json={"current": PASSWORD, "new": "x1"}, headers=old)
    assert short.status_code == 400 and "at least 10 characters" in short.get_json()["detail"]
    wrong = client.post(
        "/api/auth/password", json={"current": "not-it", "new": "violet-harbour-lantern-93"}, headers=old
    )
    assert wrong.status_code == 403
    ok = client.post("/api/auth/password", json={"current": PASSWORD, "new": "violet-harbour-lantern-93"}, headers=old)
    assert ok.status_code == 200
    assert client.get("/api/alarms", headers=old).status_code == 401
    assert client.post("/api/auth/token", json={"username": person, "password": PASSWORD}).status_code == 401
    assert token(app, person, "violet-harbour-lantern-93")


def test_an_administrator_disables_and_enables_an_account(app, person, users, engine):
    client = app.server.test_client()
    theirs = token(app, person)
    admin = token(app, users["admin"])
    listed = {u["username"]: u for u in client.get("/api/users", headers=admin).get_json()["users"]}
    assert listed[person]["active"] and listed[person]["role"] == "leader"
    assert client.post(f"/api/users/{person}/disable", headers=admin).status_code == 200
    assert client.get("/api/alarms", headers=theirs).status_code == 401  # at once
    assert client.post("/api/auth/token", json={"username": person, "password": PASSWORD}).status_code == 401
    assert client.post(f"/api/users/{users['admin']}/disable", headers=admin).status_code == 409  # not yourself
    assert client.post(f"/api/users/{person}/disable", headers=token(app, users["leader"])).status_code == 403
    assert client.post("/api/users/no-such-user/disable", headers=admin).status_code == 404
    assert client.post(f"/api/users/{person}/enable", headers=admin).status_code == 200
    assert token(app, person)
    with engine.connect() as c:
        actions = set(
            c.execute(text("SELECT action FROM audit_log WHERE subject = :s"), {"s": f"user:{person}"}).scalars()
        )
    assert {"user_disable", "user_enable"} <= actions


def test_the_command_line_changes_passwords_and_disables_accounts(app, person, db_url):
    env = {**os.environ, "LAWGRID_DATABASE_URL": db_url}

    def cli(*args, stdin=""):
        return subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", "user", *args], input=stdin, env=env, capture_output=True, text=True
        )

    bearer = token(app, person)
    weak = cli("passwd", person, stdin="password12\n")
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr
    assert cli("passwd", person, stdin="quiet-orchard-ferry-51\n").returncode == 0
    assert app.server.test_client().get("/api/alarms", headers=bearer).status_code == 401
    assert cli("disable", person).returncode == 0
    assert (
        app.server.test_client()
        .post("/api/auth/token", json={"username": person, "password": "quiet-orchard-ferry-51"})
        .status_code
        == 401
    )
    assert cli("enable", person).returncode == 0
    assert token(app, person, "quiet-orchard-ferry-51")
    missing = cli("disable", "no-such-user")
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_the_accounts_page_disables_an_account_in_the_browser(browser, live_app, users, person):
    from tests.webutil import browser_login

    url = live_app["url"]
    theirs = requests.post(url + "/api/auth/token", json={"username": person, "password": PASSWORD}, timeout=10)
    bearer = {"Authorization": f"Bearer {theirs.json()['access_token']}"}
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        browser_login(page, url, users["admin"], PASSWORD)
        page.click("#nav-accounts")
        button = page.locator(f"#accounts-table tr:has(td:text-is('{person}')) button")
        button.wait_for()
        assert button.inner_text() == "停用"
        button.click()
        page.wait_for_selector(f"#accounts-message:has-text('{person}')")
        assert requests.get(url + "/api/alarms", headers=bearer, timeout=10).status_code == 401
        assert page.locator(f"#accounts-table tr:has(td:text-is('{person}')) button").inner_text() == "启用"
    finally:
        page.close()
    other = browser.new_page()
    try:
        browser_login(page=other, base_url=url, username=users["leader"], password=PASSWORD)
        assert not other.is_visible("#nav-accounts")
        other.goto(url + "/accounts")
        other.wait_for_selector("#accounts-denied")
    finally:
        other.close()
