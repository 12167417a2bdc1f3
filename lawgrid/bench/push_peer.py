"""The transport half of `bench push`: LawGrid's production web process (gunicorn -k gevent
with Redis as its message queue, as docker-compose runs it beside `lawgrid ingest`) and, as
the peer, Node's socket.io (`lawgrid/bench/node/peer.js`). Each is fed the same position
batches through Redis at the same cadence, as the ingest process publishes them, taking
turns (twice each, so drift in the machine's load falls on both), and serves the same N
logged-in clients (in processes of their own: Node's socket.io-client where
present, `push_clients` otherwise). Measured for each:
server CPU per delivered batch (user + system time from /proc, the whole process tree) and
publish → client latency.

Node's peer needs `make bench-peers` (npm installs socket.io and redis into
lawgrid/bench/node/node_modules); where Node or those packages are missing, that baseline is
skipped with a message and LawGrid's figures still come out."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lawgrid import screens
from lawgrid.bench import cpu_seconds

NODE_DIR = Path(__file__).with_name("node")
CLIENTS_PER_PROCESS = 5


def batch(rows: int) -> list[list]:
    """A live-positions batch as LivePush sends it, stamped now (the clients time from it)."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    return [[i + 1, 39.0 + i * 1e-5, 117.6 + i * 1e-5, "moving", None, False, stamp] for i in range(rows)]


def node_clients() -> str | None:
    """Node, where it and socket.io-client are installed (`make bench-peers`): the clients then
    run in Node, which decodes a batch for a fraction of python-socketio's CPU."""
    node = shutil.which("node")
    return node if node and (NODE_DIR / "node_modules" / "socket.io-client").is_dir() else None


def clients_are() -> str:
    return "socket.io-client in one Node process" if node_clients() else "python-socketio, five to a process"


def clients(url: str, token: str, n: int, tmp: Path, tag: str) -> list[subprocess.Popen]:
    """n logged-in Socket.IO clients of `url`: in one Node process where Node is present, else
    python-socketio clients, five to a process; returns once all connected."""
    node = node_clients()
    if node:
        commands = [[node, str(NODE_DIR / "clients.js"), "--clients", str(n)]]
    else:
        shares = [min(CLIENTS_PER_PROCESS, n - i) for i in range(0, n, CLIENTS_PER_PROCESS)]
        commands = [[sys.executable, "-m", "lawgrid.bench.push_clients", "--clients", str(k)] for k in shares]
    procs = [
        subprocess.Popen(
            command + ["--url", url, "--token", token, "--out", str(tmp / f"{tag}-{i}.f64")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, command in enumerate(commands)
    ]
    for p in procs:
        assert p.stdout is not None
        if p.stdout.readline().strip() != "connected":
            raise RuntimeError(f"the Socket.IO clients did not connect to {url}")
    return procs


def collect(procs: list[subprocess.Popen], tmp: Path, tag: str) -> dict:
    """Disconnect the clients and pool what they timed."""
    parts = [json.loads(p.communicate("", timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    every = np.concatenate([np.fromfile(tmp / f"{tag}-{i}.f64") for i in range(len(procs))])
    floor = np.array([x for part in parts for x in part["floor_ms"]] or [0.0])
    return {
        "batches": sum(part["batches"] for part in parts),
        "positions": sum(part["received"] for part in parts),
        "p50_ms": round(float(np.percentile(every, 50)), 1),
        "p95_ms": round(float(np.percentile(every, 95)), 1),
        "p99_ms": round(float(np.percentile(every, 99)), 1),
        "worst_client_p95_ms": max((x for part in parts for x in part["client_p95_ms"]), default=None),
        "floor_p95_ms": round(float(np.percentile(floor, 95)), 1),
        "floor_received": sum(part["floor_received"] for part in parts),
        "latency": every,
    }


def _measure(pid: int, procs: list[subprocess.Popen], send: Callable[[list], object], feed: dict, tag: str) -> dict:
    """Feed `seconds` of batches every `interval` s, then let the last ones land: the server's
    CPU over that span, the batches delivered, their latency."""
    time.sleep(1.0)  # connections settled
    cpu0 = cpu_seconds(pid)
    sent, due = 0, time.monotonic()
    end = due + feed["seconds"]
    while due < end:
        send(batch(feed["rows"]))
        sent += 1
        due += feed["interval"]
        time.sleep(max(0.0, due - time.monotonic()))
    time.sleep(1.5)
    cpu = cpu_seconds(pid) - cpu0
    seen = collect(procs, feed["tmp"], tag)
    return {
        "batches_sent": sent,
        "batches_delivered": seen["batches"],
        "batches_expected": sent * feed["clients"],
        "server_cpu_s": cpu,
        "cpu_ms_per_delivered": cpu * 1000 / max(seen["batches"], 1),
        "latency": seen["latency"],
    }


ROUNDS = 2  # LawGrid and Node take turns, twice: drift in the machine's load falls on both
SERVER = " ".join(screens.GUNICORN[1:]) + " + Redis message queue"


def compare(web_pid: int, base: str, token: str, redis_url: str, n: int, rows: int, interval: float,
            seconds: float, tmp: Path) -> dict:  # fmt: skip
    """LawGrid's running web process (`base`, fed through `redis_url`) and Node's peer, each
    with n clients and the same feed of `rows`-row batches every `interval` s, taking turns
    (ROUNDS of `seconds` each), their rounds pooled."""
    import redis
    from flask_socketio import SocketIO

    from dashboard.live import DISTRICT_ROOM, NAMESPACE

    feed = {"rows": rows, "interval": interval, "seconds": seconds, "clients": n, "tmp": tmp}
    out: dict = {"clients": n, "rows_per_batch": rows, "interval_s": interval, "seconds": seconds, "rounds": ROUNDS}
    emitter = SocketIO(message_queue=redis_url)  # what `lawgrid ingest` publishes with

    def ours(r: int) -> dict:
        send = lambda rows: emitter.emit("positions", rows, to=DISTRICT_ROOM, namespace=NAMESPACE)  # noqa: E731
        return _measure(web_pid, clients(base, token, n, tmp, f"lawgrid{r}"), send, feed, f"lawgrid{r}")

    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "socket.io").is_dir():
        out["lawgrid"] = {**_pool([ours(r) for r in range(ROUNDS)]), "server": SERVER}
        out["node"] = None
        out["node_skipped"] = "Node or its socket.io packages are missing: run `make bench-peers`"
        return out
    peer = subprocess.Popen(
        [node, str(NODE_DIR / "peer.js"), "--redis", redis_url, "--channel", "lawgrid-bench-peer"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        port = int(peer.stdout.readline().split()[1])
        publisher = redis.Redis.from_url(redis_url)
        mine, theirs = [], []
        for r in range(ROUNDS):
            mine.append(ours(r))
            theirs.append(
                _measure(
                    peer.pid,
                    clients(f"http://127.0.0.1:{port}", "unused", n, tmp, f"node{r}"),
                    lambda rows: publisher.publish("lawgrid-bench-peer", json.dumps(rows)),
                    feed,
                    f"node{r}",
                )
            )
        out["lawgrid"], out["node"] = {**_pool(mine), "server": SERVER}, _pool(theirs)
        version = "console.log(process.version + ' socket.io ' + require('socket.io/package.json').version)"
        found = subprocess.run([node, "-e", version], cwd=NODE_DIR, capture_output=True, text=True, check=False)
        out["node"]["server"] = "node " + found.stdout.strip()
    finally:
        peer.terminate()
        peer.wait(30)
    lawgrid, peer_ms = out["lawgrid"]["cpu_ms_per_delivered"], out["node"]["cpu_ms_per_delivered"]
    out["cpu_ratio_vs_node"] = round(lawgrid / max(peer_ms, 1e-6), 2)
    out["cpu_ratio_by_round"] = [
        round(a["cpu_ms_per_delivered"] / max(b["cpu_ms_per_delivered"], 1e-6), 2)
        for a, b in zip(mine, theirs, strict=True)
    ]
    return out


def _pool(runs: list[dict]) -> dict:
    """Rounds of one server as one measurement: sums, CPU per delivered batch over all of
    them, latency percentiles over every batch."""
    latency = np.concatenate([r.pop("latency") for r in runs])
    cpu = sum(r["server_cpu_s"] for r in runs)
    delivered = sum(r["batches_delivered"] for r in runs)
    return {
        "batches_sent": sum(r["batches_sent"] for r in runs),
        "batches_delivered": delivered,
        "batches_expected": sum(r["batches_expected"] for r in runs),
        "server_cpu_s": round(cpu, 2),
        "cpu_ms_per_delivered": round(cpu * 1000 / max(delivered, 1), 3),
        "p50_ms": round(float(np.percentile(latency, 50)), 1),
        "p95_ms": round(float(np.percentile(latency, 95)), 1),
    }
