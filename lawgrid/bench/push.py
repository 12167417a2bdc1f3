"""Push latency in production's shape: the simulator (a process of its own, OsmAnd over HTTP)
→ `lawgrid ingest` (its own process) → pipeline commit → coalesced batch published to Redis
→ the web process (gunicorn -k gevent, as the Dockerfile runs it) → N logged-in Socket.IO
clients (in processes of their own: Node's socket.io-client where `make bench-peers` installed
it, the cheaper load generator; python-socketio otherwise).

Latency per position = the client's receive time − the fix time the device stamped at send
(same machine clock, millisecond timestamps). Baselines, in the same run:
- the transport floor: a bare emit of a timestamp every 100 ms through the same Redis and web
  process to the same clients, under the same load;
- Node's socket.io serving the same batches to the same number of clients (push_peer): server
  CPU per delivered batch beside LawGrid's web process, fed alike once the simulator is done."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from demo.seed import seed_organisation
from geo.access import accounts
from geo.infra import db
from geo.places.reference import load_reference
from lawgrid import screens
from lawgrid.bench import bench_database, push_peer
from lawgrid.runtime import REFERENCE_DIR


def run(runtime, args) -> dict:
    from flask_socketio import SocketIO

    from dashboard.live import DISTRICT_ROOM, NAMESPACE

    devices, interval = args.devices, runtime.settings.push_interval_s
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=2)
    password = secrets.token_urlsafe(16)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=max(100, devices), seed=3)  # one phone (OsmAnd) each
        accounts.create_user(s, "bench-operator", password, "operator")
    engine.dispose()

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        redis_proc, redis_url = screens.start_redis()
        started = [redis_proc]
        try:
            shared = {"LAWGRID_REDIS_URL": redis_url, "LAWGRID_PUSH_INTERVAL_S": str(interval)}
            (tmp / "web").mkdir()
            web, base = screens.start_server(url, tmp / "web", secrets.token_hex(32), env=shared)
            started.append(web)
            osmand = screens.free_port()
            ingest = subprocess.Popen(
                [sys.executable, "-m", "lawgrid.cli", "ingest"],
                env={
                    **os.environ,
                    **shared,
                    "LAWGRID_DATABASE_URL": url,
                    "LAWGRID_DATA_DIR": str(tmp / "ingest"),
                    "LAWGRID_INGEST_HOST": "127.0.0.1",
                    "LAWGRID_OSMAND_PORT": str(osmand),
                    "LAWGRID_JT808_PORT": str(screens.free_port()),
                    "LAWGRID_INGEST_MAX_CONNECTIONS_PER_ADDRESS": "0",  # the whole fleet comes from 127.0.0.1
                },
                stdout=subprocess.PIPE,
                text=True,
            )
            started.append(ingest)
            assert ingest.stdout is not None
            if not ingest.stdout.readline().startswith("listening"):
                raise RuntimeError("lawgrid ingest did not start")
            token = screens.token(base, "bench-operator", password)
            watchers = push_peer.clients(base, token, args.clients, tmp, "push")

            emitter = SocketIO(message_queue=redis_url)  # the path the positions take
            stop = threading.Event()

            def ping():
                while not stop.wait(0.1):
                    emitter.emit("bench_ping", time.time(), to=DISTRICT_ROOM, namespace=NAMESPACE)

            threading.Thread(target=ping, daemon=True).start()
            sim = subprocess.run(
                [sys.executable, "-m", "lawgrid.cli", "simulate", "--devices", str(devices), "--rate", str(args.rate)]
                + ["--duration", str(args.duration), "--protocol", "osmand", "--host", "127.0.0.1"]
                + ["--osmand-port", str(osmand)],
                env={**os.environ, "LAWGRID_DATABASE_URL": url},
                capture_output=True,
                text=True,
                timeout=args.duration + 300,
            )
            time.sleep(1.5)  # the last batches
            stop.set()
            seen = push_peer.collect(watchers, tmp, "push")
            ingest.terminate()
            ingest.wait(30)
            if sim.returncode != 0:
                raise RuntimeError(f"simulator failed: {sim.stderr[-2000:]}")
            # The same batches through this web process and through Node's socket.io.
            rows = max(1, round(devices * args.rate * interval))
            transport = push_peer.compare(web.pid, base, token, redis_url, args.clients, rows, interval, 15, tmp)
        finally:
            for proc in reversed(started):
                proc.terminate()
                proc.wait(30)
    summary = json.loads(sim.stdout.strip().splitlines()[-1])
    if not seen["positions"] or not seen["floor_received"]:
        raise RuntimeError("the Socket.IO clients received nothing")
    return {
        "bench": "push",
        "shape": "simulator -> lawgrid ingest -> Redis -> gunicorn -k gevent web -> clients, each its own process",
        "devices": devices,
        "clients": args.clients,
        "clients_are": push_peer.clients_are(),
        "push_interval_s": interval,
        "rate_hz": args.rate,
        "duration_s": args.duration,
        "sent": summary["sent"],
        "acked": summary["acked"],
        "offered_shortfall": round(1 - summary["sent"] / max(devices * args.rate * args.duration, 1), 4),
        "positions_received": seen["positions"],
        "batches_received": seen["batches"],
        "worst_client_p95_ms": seen["worst_client_p95_ms"],
        "p50_push_ms": seen["p50_ms"],
        "p95_push_ms": seen["p95_ms"],
        "p99_push_ms": seen["p99_ms"],
        "baseline": "bare emit -> Redis -> the same web process -> the same clients, every 100 ms, alongside",
        "baseline_p95_ms": seen["floor_p95_ms"],
        "ratio": round(seen["p95_ms"] / max(seen["floor_p95_ms"], 0.1), 1),
        "cpu_ms_per_delivered": transport["lawgrid"]["cpu_ms_per_delivered"],
        "node_cpu_ms_per_delivered": (transport["node"] or {}).get("cpu_ms_per_delivered"),
        "cpu_ratio_vs_node": transport.get("cpu_ratio_vs_node"),
        "transport": transport,
        "target": "p95_push_ms <= 500 at 3,000 devices x 1 Hz; server CPU per delivered batch <= 2x Node's",
        "note": "includes up to push_interval_s of deliberate coalescing (the first positions after a quiet "
        "spell go at once)",
    }
