"""`lawgrid bench NAME`: measure one capability against a baseline run alongside it.

Each benchmark runs inside one transaction that is rolled back, so the database keeps
whatever it held before."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from geo import queries
from geo.bulk import TARGET_COPY_COLUMNS, copy_text
from ingest import synthetic
from ingest.seed import seed_targets


def run(name: str, runtime, args) -> dict:
    return {"seed": bench_seed, "ingest": bench_ingest}[name](runtime, args)


def bench_seed(runtime, args) -> dict:
    """Our seed (generate + COPY) against a plain COPY of the same rows from a file."""
    n = args.targets
    session = runtime.sessions()
    try:
        outline = queries.district_outline(session)
        codes, polygons, names = queries.township_polygons(session)
        fd, path = tempfile.mkstemp(prefix="lawgrid-bench-", suffix=".copy")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for _m, chunk in synthetic.target_chunks(outline, codes, polygons, names, n, args.seed):
                f.write(chunk)
        size_mb = os.path.getsize(path) / 1e6

        session.execute(text("TRUNCATE target RESTART IDENTITY CASCADE"))
        t0 = time.perf_counter()
        with open(path, encoding="utf-8") as f:
            copy_text(session, "target", TARGET_COPY_COLUMNS, iter(lambda: f.read(1 << 20), ""))
        baseline_s = time.perf_counter() - t0
        os.unlink(path)

        t0 = time.perf_counter()
        seed_targets(session, targets=n, seed=args.seed, progress=False, analyze=False)
        ours_s = time.perf_counter() - t0
        count = session.execute(text("SELECT count(*) FROM target")).scalar_one()
    finally:
        session.rollback()
        session.close()
    ours_rate, base_rate = n / ours_s, n / baseline_s
    return {
        "bench": "seed", "targets": n, "rows_written": count,
        "seconds": round(ours_s, 2), "rows_per_s": round(ours_rate),
        "baseline": f"plain COPY of a pre-generated {size_mb:.0f} MB file into the same indexed table",
        "baseline_seconds": round(baseline_s, 2), "baseline_rows_per_s": round(base_rate),
        "ratio": round(ours_rate / base_rate, 3), "target": "ratio >= 0.5",
    }


def bench_ingest(runtime, args) -> dict:
    """Simulated devices (another process) over real sockets into the listeners and PostGIS
    of this process, in a database of its own; baseline: plain COPY of the rows stored."""
    import json
    import subprocess
    import sys

    import numpy as np
    from sqlalchemy import text as sql

    from geo import db
    from geo.reference import load_reference
    from ingest.seed import seed_organisation
    from ingest.service import BackgroundIngest, IngestConfig, IngestService
    from lawgrid.runtime import REFERENCE_DIR

    url = _bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=5)
    sessions = db.make_sessionmaker(engine)
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=max(100, args.devices), seed=3)  # two devices each
    with tempfile.TemporaryDirectory() as tmp:
        config = IngestConfig(dsn=db.raw_psycopg_url(engine), spool_path=Path(tmp) / "spool.jsonl",
                              host="127.0.0.1", jt808_port=0, osmand_port=0)
        service = IngestService(config, sessions)
        background = BackgroundIngest(service)
        background.start()
        env = {**os.environ, "LAWGRID_DATABASE_URL": url}
        t0 = time.perf_counter()
        sim = subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", "simulate", "--devices", str(args.devices),
             "--rate", str(args.rate), "--duration", str(args.duration), "--protocol", args.protocol,
             "--host", "127.0.0.1", "--jt808-port", str(service.jt808.port),
             "--osmand-port", str(service.osmand.port)],
            env=env, capture_output=True, text=True, timeout=args.duration + 300)
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
        raw = conn.connection.dbapi_connection
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
    sustained = stored / args.duration
    baseline_rate = stored / copy_s if copy_s else float("inf")
    return {
        "bench": "ingest", "devices": summary["devices"], "rate_hz": args.rate,
        "protocol": args.protocol, "duration_s": args.duration,
        "offered_msgs_per_s": round(summary["sent"] / args.duration),
        "msgs_per_s": round(sustained), "sent": summary["sent"], "acked": summary["acked"],
        "stored": stored, "lost": max(0, summary["acked"] - stored), "failed": summary["failed"],
        "p99_commit_ms": summary["ack_p99_ms"], "p95_commit_ms": summary["ack_p95_ms"],
        "server_p99_commit_ms": round(float(np.percentile(commit_ms, 99)), 1),
        "wall_s": round(elapsed, 1),
        "baseline": "plain COPY of the same stored rows into a table shaped like position",
        "baseline_rows_per_s": round(baseline_rate), "ratio": round(sustained / baseline_rate, 4),
        "target": "10,000 msgs/s offered sustained, p99 <= 1000 ms, lost = 0",
        "note": "p99_commit_ms is device send -> acknowledgement, sent only after commit",
    }


def _bench_database(runtime) -> str:
    """A fresh database beside the configured one, so benchmarks never touch real data."""
    from sqlalchemy.engine import make_url

    from lawgrid.embedded_db import EmbeddedCluster

    settings = runtime.settings
    if not settings.database_url:
        cluster = EmbeddedCluster(settings.resolved_data_dir)
        cluster.drop_database("lawgrid_bench")
        cluster.ensure_database("lawgrid_bench")
        return cluster.url("lawgrid_bench")
    from geo import db
    from sqlalchemy import text as sql

    admin = db.make_engine(runtime.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sql('DROP DATABASE IF EXISTS "lawgrid_bench" WITH (FORCE)'))
        conn.execute(sql('CREATE DATABASE "lawgrid_bench"'))
    admin.dispose()
    url = make_url(runtime.url).set(database="lawgrid_bench").render_as_string(hide_password=False)
    with db.make_engine(url).begin() as conn:
        conn.execute(sql("CREATE EXTENSION IF NOT EXISTS postgis"))
    return url
