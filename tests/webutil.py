"""Helpers for driving the web app as a user would (test client and Chromium)."""

import re

ORIGIN = {"Origin": "http://localhost"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run"]


def csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(client, username: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf": token},
                       headers=ORIGIN, environ_base={"REMOTE_ADDR": address})


def browser_login(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(base_url + "/")
