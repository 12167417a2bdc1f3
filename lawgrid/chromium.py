"""Headless Chromium as the tests and `lawgrid bench map` launch it (Debian's package)."""

import shutil

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
