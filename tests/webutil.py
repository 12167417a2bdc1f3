"""Helpers for driving the web app as a user would (test client and Chromium)."""

import os
import re

from lawgrid import chromium

# How long a test waits for a condition before it fails. Tests wait on conditions, never on
# time; this bound only ends a wait that would never be met, and is generous so that a busy
# machine (CI beside other work) passes too. LAWGRID_TEST_PATIENCE_S changes it.
PATIENCE_S = float(os.environ.get("LAWGRID_TEST_PATIENCE_S", "120"))
PATIENCE_MS = PATIENCE_S * 1000

ORIGIN = {"Origin": "http://localhost"}
CHROMIUM_ARGS = chromium.ARGS


def csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(client, username: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token},
        headers=ORIGIN,
        environ_base={"REMOTE_ADDR": address},
    )


def browser_login(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(base_url + "/")


def run_async(coro_or_fn):
    """Run a coroutine (or a blocking function) on a fresh thread: Playwright's sync API
    keeps an event loop on the main thread once a browser test has run."""
    import asyncio
    import threading

    result, error = [], []

    def target():
        try:
            result.append(asyncio.run(coro_or_fn) if asyncio.iscoroutine(coro_or_fn) else coro_or_fn())
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


ENGINE = None  # the test database's engine, set by tests.conftest's engine fixture


def credentials(protocol: str, identifier: str) -> str | None:
    """The secret a registered device proves itself with: a JT/T 808 terminal's 终端ID, an
    OsmAnd phone's key (None for a device the registry does not hold)."""
    from sqlalchemy import text

    assert ENGINE is not None, "the engine fixture sets the test database"
    with ENGINE.connect() as c:
        return c.execute(
            text(
                "SELECT coalesce(terminal_id, device_key) FROM device WHERE protocol = :p "
                "AND lower(identifier) = lower(:i)"
            ),
            {"p": protocol, "i": identifier},
        ).scalar()


def terminal(phone: str, port: int, **kw):
    """A JT/T 808 terminal as the device registered under that number (its 终端ID)."""
    from ingest.devices import Jt808Terminal

    return Jt808Terminal(phone, "127.0.0.1", port, terminal_id=credentials("jt808", phone) or "", **kw)


def phone_client(ident: str, port: int):
    """A Traccar Client phone as registered under that id (its key in the server URL)."""
    from ingest.devices import OsmAndPhone

    return OsmAndPhone(ident, "127.0.0.1", port, key=credentials("osmand", ident))


def jt808_report(port: int, phone: str, lat: float, lon: float, **kw) -> None:
    """A body camera logs in and reports one position (off Playwright's loop)."""

    async def report():
        term = terminal(phone, port)
        await term.connect()
        await term.login()
        assert await term.location(lat, lon, **kw) == 0
        await term.close()

    run_async(report())


def wait_for(condition, timeout: float | None = None, interval: float = 0.05, what: str = "the condition"):
    """Poll condition() until it returns something truthy; return it, or fail after the patience."""
    timeout = PATIENCE_S if timeout is None else timeout
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
