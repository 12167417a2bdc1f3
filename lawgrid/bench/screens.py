"""Many screens: the production web server (gunicorn -k gevent, a process of its own) with N
logged-in dashboards holding their live sockets open; the REST API (the devices listing) and
a page timed in series with none connected (the baseline) and with all N, in the same run."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from demo.seed import seed_organisation
from geo.access import accounts
from geo.infra import db
from geo.places.reference import load_reference
from lawgrid import screens
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR


def run(runtime, args) -> dict:
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=2)
    password = secrets.token_urlsafe(16)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=300, seed=3)
        accounts.create_user(s, "bench-operator", password, "operator")
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = screens.start_server(url, Path(tmp), secrets.token_hex(32))
        try:
            access = screens.token(base, "bench-operator", password)
            quiet = screens.timings(base, access, n=200)
            dashboards, failed = screens.open_dashboards(base, access, args.clients)
            busy = screens.timings(base, access, n=200)
            for client in dashboards:
                client.disconnect()
        finally:
            proc.terminate()
            proc.wait(30)
    return {
        "bench": "screens",
        "server": " ".join(screens.GUNICORN[1:]),
        "clients": args.clients,
        "connected": len(dashboards),
        "failed_to_connect": failed,
        "rest_p95_ms_none": quiet["rest"]["p95_ms"],
        "rest_p95_ms_connected": busy["rest"]["p95_ms"],
        "page_p95_ms_none": quiet["page"]["p95_ms"],
        "page_p95_ms_connected": busy["page"]["p95_ms"],
        "ratio": round(busy["rest"]["p95_ms"] / max(quiet["rest"]["p95_ms"], 0.1), 2),
        "baseline": "the same server and requests with no dashboard connected, in the same run",
        "quiet": quiet,
        "busy": busy,
        "target": "REST p95 with the dashboards connected <= 2x its p95 with none",
    }
