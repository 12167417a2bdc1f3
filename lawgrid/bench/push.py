"""Push latency: a device sends a position (the simulator, another process, over OsmAnd) →
listener → pipeline commit → coalesced Socket.IO batch → N logged-in Socket.IO clients (in a
process of their own).

Latency per position = the client's receive time − the fix time the device stamped at send
(same machine clock, millisecond timestamps). Baseline, run alongside on the same server and
connection: a bare Socket.IO emit of a timestamp every 100 ms to the same room, received by
the same client, i.e. the transport floor under the same load."""

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

import numpy as np
import requests
from werkzeug.serving import make_server

from geo import accounts, db
from geo.reference import load_reference
from ingest.seed import seed_organisation
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR, Runtime
from lawgrid.settings import Settings


def run(runtime, args) -> dict:
    from dashboard.live import DISTRICT_ROOM, NAMESPACE
    from lawgrid.app import create_app

    devices = args.devices
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=10, max_overflow=10)
    sessions = db.make_sessionmaker(engine)
    password = secrets.token_urlsafe(16)
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=max(100, devices), seed=3)  # one phone (OsmAnd) each
        accounts.create_user(s, "bench-operator", password, "operator")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=url,
            secret_key=secrets.token_hex(32),
            ingest_host="127.0.0.1",
            jt808_port=0,
            osmand_port=0,
            data_dir=Path(tmp),
            push_interval_s=runtime.settings.push_interval_s,
            ingest_max_connections_per_address=0,  # the whole fleet comes from 127.0.0.1
        )
        app = create_app(settings, Runtime(settings, url, engine, sessions), with_ingest=True)
        web = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{web.server_port}"
        ingest = app.server.extensions["lawgrid_ingest"]
        live = app.server.extensions["lawgrid_live"]
        token = requests.post(
            base + "/api/auth/token", timeout=10, json={"username": "bench-operator", "password": password}
        ).json()["access_token"]

        # The dashboards run in processes of their own (five to a process): decoding their
        # batches must not take the server's interpreter, nor pile up in one client process.
        shares = [min(5, args.clients - i) for i in range(0, args.clients, 5)]
        watchers = [
            subprocess.Popen(
                [sys.executable, "-m", "lawgrid.bench.push_clients", "--url", base, "--token", token]
                + ["--clients", str(n), "--out", str(Path(tmp) / f"push-{i}.f64")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, n in enumerate(shares)
        ]
        for w in watchers:
            assert w.stdout is not None
            if w.stdout.readline().strip() != "connected":
                raise RuntimeError("the Socket.IO clients did not connect")

        stop = threading.Event()

        def ping():
            while not stop.wait(0.1):
                live.socketio.emit("bench_ping", time.time(), to=DISTRICT_ROOM, namespace=NAMESPACE)

        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()
        env = {**os.environ, "LAWGRID_DATABASE_URL": url}
        sim = subprocess.run(
            [
                sys.executable,
                "-m",
                "lawgrid.cli",
                "simulate",
                "--devices",
                str(devices),
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration),
                "--protocol",
                "osmand",
                "--host",
                "127.0.0.1",
                "--osmand-port",
                str(ingest.service.osmand.port),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=args.duration + 300,
        )
        time.sleep(1.5)  # the last batches
        stop.set()
        parts = [json.loads(w.communicate("", timeout=120)[0].strip().splitlines()[-1]) for w in watchers]
        every = np.concatenate([np.fromfile(Path(tmp) / f"push-{i}.f64") for i in range(len(watchers))])
        floor = np.array([x for part in parts for x in part["floor_ms"]] or [0.0])
        seen = {
            "received": sum(part["received"] for part in parts),
            "p50_ms": round(float(np.percentile(every, 50)), 1),
            "p95_ms": round(float(np.percentile(every, 95)), 1),
            "p99_ms": round(float(np.percentile(every, 99)), 1),
            "worst_client_p95_ms": max((x for part in parts for x in part["client_p95_ms"]), default=None),
            "floor_p95_ms": round(float(np.percentile(floor, 95)), 1),
            "floor_received": sum(part["floor_received"] for part in parts),
        }
        web.shutdown()
        ingest.stop()
        live.stop()
    engine.dispose()
    if sim.returncode != 0:
        raise RuntimeError(f"simulator failed: {sim.stderr[-2000:]}")
    summary = json.loads(sim.stdout.strip().splitlines()[-1])
    if not seen["received"] or not seen["floor_received"]:
        raise RuntimeError("the Socket.IO clients received nothing")
    return {
        "bench": "push",
        "devices": devices,
        "clients": args.clients,
        "push_interval_s": settings.push_interval_s,
        "rate_hz": args.rate,
        "duration_s": args.duration,
        "sent": summary["sent"],
        "acked": summary["acked"],
        "positions_received": seen["received"],
        "worst_client_p95_ms": seen["worst_client_p95_ms"],
        "p50_push_ms": seen["p50_ms"],
        "p95_push_ms": seen["p95_ms"],
        "p99_push_ms": seen["p99_ms"],
        "batches": live.batches_sent,
        "baseline": "bare Socket.IO emit -> same client, every 100 ms, alongside",
        "baseline_p95_ms": seen["floor_p95_ms"],
        "ratio": round(seen["p95_ms"] / max(seen["floor_p95_ms"], 0.1), 1),
        "target": "p95_push_ms <= 500 at 3,000 devices x 1 Hz",
        "note": "includes up to push_interval_s of deliberate coalescing (the first "
        "positions after a quiet spell go at once); the clients run in a process of their own",
    }
