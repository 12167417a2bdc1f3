"""Login throttling protects users instead of locking them out: guesses from elsewhere do not
hold an account at the address its owner uses, a proxy's failures do not lock its known
users out, concurrent guesses are counted one after another, unknown usernames cost the same
time as known ones, and X-Forwarded-For is believed only when proxies are configured."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from geo.access import accounts
from lawgrid.app import create_app
from lawgrid.runtime import Runtime
from lawgrid.settings import Settings
from tests.conftest import PASSWORD


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime.settings, runtime)


@pytest.fixture
def person(app):
    name = f"t-thr-{uuid.uuid4().hex[:8]}"
    with app.server.extensions["lawgrid"].session() as s:
        accounts.create_user(s, name, PASSWORD, "leader")
    return name


def attempt(client, name, password, address):
    r = client.post(
        "/api/auth/token", json={"username": name, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    return r.status_code


def test_guesses_from_elsewhere_never_refuse_the_right_password(app, person):
    """Failures elsewhere step a new address up (a slower try), never refuse the right password;
    the guessing address itself is held; the owner's desk is never slowed."""
    client = app.server.test_client()
    assert attempt(client, person, PASSWORD, "10.20.0.1") == 200  # his desk
    for i in range(accounts.THROTTLE_FAILURES):  # an attacker from five addresses
        assert attempt(client, person, "guess", f"10.66.0.{i}") == 401
    started = time.monotonic()
    assert attempt(client, person, PASSWORD, "10.77.0.9") == 200  # a hotel, never used before: let in...
    assert time.monotonic() - started >= accounts.THROTTLE_STEP_UP_S  # ...after the step-up
    with app.server.extensions["lawgrid"].session() as s:  # at his desk: no step-up at all
        assert accounts.throttled_minutes(s, person, "10.20.0.1") == (0, 0.0)
    assert attempt(client, person, PASSWORD, "10.20.0.1") == 200
    for _ in range(accounts.THROTTLE_FAILURES):  # one address guessing on: that address is held
        attempt(client, person, "guess", "10.66.0.1")
    assert attempt(client, person, PASSWORD, "10.66.0.1") == 429


def test_a_proxys_failures_do_not_lock_out_its_known_users(app, person):
    client = app.server.test_client()
    proxy = f"10.30.{uuid.uuid4().int % 250}.1"
    assert attempt(client, person, PASSWORD, proxy) == 200
    for _ in range(accounts.THROTTLE_FAILURES_PER_ADDRESS):
        attempt(client, f"nobody-{uuid.uuid4().hex[:6]}", "x", proxy)
    assert attempt(client, person, PASSWORD, proxy) == 200  # known here: let through
    stranger = f"t-thr-{uuid.uuid4().hex[:8]}"
    with app.server.extensions["lawgrid"].session() as s:
        accounts.create_user(s, stranger, PASSWORD, "leader")
    assert attempt(client, stranger, PASSWORD, proxy) == 429  # never seen here: the address is held


def test_concurrent_guesses_are_counted_one_after_another(live_app, person, engine):
    url = live_app["url"] + "/api/auth/token"

    def guess(i):
        return requests.post(url, json={"username": person, "password": f"guess-{i}"}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(guess, range(40)))
    assert codes.count(401) == accounts.THROTTLE_FAILURES  # exactly the limit was evaluated
    assert codes.count(429) == 40 - accounts.THROTTLE_FAILURES
    with engine.connect() as c:
        evaluated = c.execute(text("SELECT count(*) FROM login_attempt WHERE username = :u"), {"u": person}).scalar()
    assert evaluated == accounts.THROTTLE_FAILURES


def test_an_unknown_username_costs_the_same_hash_as_a_known_one(app, person):
    client = app.server.test_client()

    def median_time(name):
        times = []
        for i in range(3):
            t0 = time.perf_counter()
            attempt(client, name, "wrong", f"10.40.{i}.{uuid.uuid4().int % 250}")
            times.append(time.perf_counter() - t0)
        return sorted(times)[1]

    known, unknown = median_time(person), median_time(f"nobody-{uuid.uuid4().hex}")
    # Before, an unknown name answered about 70 times faster (no hash); now both pay for argon2.
    assert unknown > 0.5 * known, (known, unknown)


def test_x_forwarded_for_is_believed_only_behind_configured_proxies(runtime, person, engine):
    spoofed = {"X-Forwarded-For": "203.0.113.77"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.77")):
        settings = Settings(database_url=runtime.url, secret_key="xff", trusted_proxies=proxies)
        client = create_app(
            settings, Runtime(settings, runtime.url, runtime.engine, runtime.sessions)
        ).server.test_client()
        client.post(
            "/api/auth/token",
            json={"username": person, "password": "nope"},
            headers=spoofed,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        with engine.connect() as c:
            source = c.execute(
                text("SELECT source FROM login_attempt WHERE username = :u ORDER BY id DESC LIMIT 1"), {"u": person}
            ).scalar()
        assert source == expected
