"""The production web server as a subprocess, and a crowd of logged-in dashboards: shared by
`lawgrid bench screens` and the many-screens test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests
import socketio

GUNICORN = ["-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "4000", "--no-control-socket"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(timeout: float = 10) -> tuple[subprocess.Popen, str]:
    """A private redis-server on a free port, keeping nothing on disk: the message queue of
    the tests and benches that run production's shape. Returns the process and its URL."""
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"redis-server did not come up (exit {proc.returncode})") from None
            time.sleep(0.05)


def start_server(
    database_url: str, data_dir: Path, secret: str, timeout: float = 90, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """`gunicorn -k gevent 'lawgrid.wsgi:server'` on a free port, as the Dockerfile runs it
    (`env`: more settings, such as LAWGRID_REDIS_URL)."""
    port = free_port()
    env = {**os.environ, **(env or {}), "LAWGRID_DATABASE_URL": database_url, "LAWGRID_SECRET_KEY": secret}
    env["LAWGRID_DATA_DIR"] = str(data_dir)
    proc = subprocess.Popen(
        [sys.executable, *GUNICORN, "-b", f"127.0.0.1:{port}", "lawgrid.wsgi:server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/api/health", timeout=5).status_code == 200:
                return proc, url
        except requests.RequestException:  # not listening yet, or still building the app
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the web server did not come up (exit {proc.returncode})")
        time.sleep(0.25)


def token(url: str, username: str, password: str) -> str:
    r = requests.post(url + "/api/auth/token", json={"username": username, "password": password}, timeout=10)
    r.raise_for_status()
    return str(r.json()["access_token"])


def open_dashboards(url: str, access_token: str, n: int) -> tuple[list[socketio.Client], int]:
    """n live sockets as the dashboards open them (websocket, logged in); returns them and how
    many failed to connect."""
    clients, failed = [], 0
    for _ in range(n):
        client = socketio.Client(reconnection=False)
        try:
            client.connect(
                url, namespaces=["/live"], transports=["websocket"], auth={"token": access_token}, wait_timeout=10
            )
            clients.append(client)
        except socketio.exceptions.ConnectionError:
            failed += 1
    return clients, failed


def timings(url: str, access_token: str, n: int = 100) -> dict:
    """n REST calls (the devices listing) and n page loads, in series: p50/p95/max in ms, and
    how many did not answer 200 within 10 s."""
    headers = {"Authorization": f"Bearer {access_token}"}
    out: dict = {}
    for name, path, h in (("rest", "/api/devices", headers), ("page", "/login", {})):
        times, errors = [], 0
        for _ in range(n):
            t0 = time.perf_counter()
            try:
                ok = requests.get(url + path, headers=h, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            times.append((time.perf_counter() - t0) * 1000)
            errors += not ok
        a = np.array(times)
        out[name] = {
            "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1),
            "max_ms": round(float(a.max()), 1),
            "errors": errors,
        }
    return out
