"""Ingest over OsmAnd (and mixed): simulated devices (another process) over real sockets into
the listeners and PostGIS of this process; baseline: plain COPY of the rows stored. The
phones wait for each answer before sending the next (closed loop, as the Traccar Client
does). `--protocol jt808` is the open-loop bench of ingest_jt808.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text as sql

from geo import db
from geo.reference import load_reference
from ingest.seed import seed_organisation
from ingest.service import BackgroundIngest, IngestConfig, IngestService
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR


def run(runtime, args) -> dict:
    if args.protocol == "jt808":
        from lawgrid.bench.ingest_jt808 import run as run_jt808

        return run_jt808(runtime, args)
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=5)
    sessions = db.make_sessionmaker(engine)
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=max(100, args.devices), seed=3)  # two devices each
    with tempfile.TemporaryDirectory() as tmp:
        config = IngestConfig(
            dsn=db.raw_psycopg_url(engine),
            spool_path=Path(tmp) / "spool.jsonl",
            host="127.0.0.1",
            jt808_port=0,
            osmand_port=0,
            max_per_address=0,  # the whole fleet comes from 127.0.0.1
        )
        service = IngestService(config, sessions)
        background = BackgroundIngest(service)
        background.start()
        env = {**os.environ, "LAWGRID_DATABASE_URL": url}
        t0 = time.perf_counter()
        sim = subprocess.run(
            [
                sys.executable,
                "-m",
                "lawgrid.cli",
                "simulate",
                "--devices",
                str(args.devices),
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration),
                "--protocol",
                args.protocol,
                "--host",
                "127.0.0.1",
                "--jt808-port",
                str(service.jt808.port),
                "--osmand-port",
                str(service.osmand.port),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=args.duration + 300,
        )
        elapsed = time.perf_counter() - t0
        background.stop()
    if sim.returncode != 0:
        raise RuntimeError(f"simulator failed: {sim.stderr[-2000:]}")
    summary = json.loads(sim.stdout.strip().splitlines()[-1])
    commit_ms = np.array(service.pipeline.commit_ms or [0.0])
    with engine.begin() as conn:
        stored = conn.execute(sql("SELECT count(*) FROM position")).scalar()
        # Baseline: the same rows through one plain COPY into a table shaped like position.
        conn.execute(sql("CREATE TEMP TABLE position_copy (LIKE position INCLUDING DEFAULTS INCLUDING INDEXES)"))
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            buf = bytearray()
            with cur.copy("COPY (SELECT * FROM position) TO STDOUT") as out:
                for chunk in out:
                    buf += chunk
            t1 = time.perf_counter()
            with cur.copy("COPY position_copy FROM STDIN") as inp:
                inp.write(bytes(buf))
            copy_s = time.perf_counter() - t1
    engine.dispose()
    stored = stored or 0
    sustained = stored / args.duration
    baseline_rate = stored / copy_s if copy_s else float("inf")
    return {
        "bench": "ingest",
        "devices": summary["devices"],
        "rate_hz": args.rate,
        "protocol": args.protocol,
        "duration_s": args.duration,
        "offered_msgs_per_s": round(summary["sent"] / args.duration),
        "msgs_per_s": round(sustained),
        "sent": summary["sent"],
        "acked": summary["acked"],
        "stored": stored,
        "lost": max(0, summary["acked"] - stored),
        "failed": summary["failed"],
        "p99_commit_ms": summary["ack_p99_ms"],
        "p95_commit_ms": summary["ack_p95_ms"],
        "server_p99_commit_ms": round(float(np.percentile(commit_ms, 99)), 1),
        "wall_s": round(elapsed, 1),
        "baseline": "plain COPY of the same stored rows into a table shaped like position",
        "baseline_rows_per_s": round(baseline_rate),
        "ratio": round(sustained / baseline_rate, 4),
        "target": "10,000 msgs/s offered sustained, p99 <= 1000 ms, lost = 0",
        "note": "p99_commit_ms is device send -> acknowledgement, sent only after commit",
    }
