"""`bench ingest`: the district's devices, open loop, over JT/T 808 (terminals and body
cameras) or OsmAnd (officers' phones running the Traccar Client).

Two listeners are driven in the same run by the same load (lawgrid/bench/device_load.py,
spread over --processes processes): LawGrid's, as `lawgrid ingest` in a process of its own
running --listeners listener processes on one port (SO_REUSEPORT; by default as many as it
would run here, one per core up to four, as production runs it), and the minimal
baseline of lawgrid/bench/baseline_listener.py. A JT/T 808 run starts with a reconnect storm
(every terminal logs in at once, as after a restart); then every device reports at --rate on
its own schedule. Reported per listener: stored per second, p50/p95/p99 from when each
position was due to its acknowledgement, failed, unanswered, and lost (acknowledged but not in
the table, checked fix by fix); and the CPU the listeners and PostgreSQL spent.
`ratio` = LawGrid's stored rate / the baseline's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text as sql

from demo.seed import seed_organisation
from geo.infra import db
from geo.places.reference import load_reference
from lawgrid import ingest_procs
from lawgrid.bench import bench_database, cpu_seconds, postgres_cpu_seconds, rss_mb, slope_per_min
from lawgrid.runtime import REFERENCE_DIR
from lawgrid.screens import free_port


def _wait_listening(proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited with {proc.returncode}")
            continue
        if line.startswith("listening"):
            return
    raise RuntimeError(f"{what} did not start listening")


def _drive(args, devices_file: Path, port: int, out: Path, listeners: list[int]) -> dict:
    """Run the load processes against one listener; merge their figures."""
    out.mkdir(parents=True, exist_ok=True)
    start_at = time.time() + max(8.0, args.devices / 600)  # the login storm first
    cpu0, pg0 = cpu_seconds(*listeners), postgres_cpu_seconds()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lawgrid.bench.device_load",
                "--protocol",
                args.protocol,
                "--devices",
                str(devices_file),
                "--shard",
                str(i),
                "--shards",
                str(args.processes),
                "--port",
                str(port),
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration),
                "--start-at",
                str(start_at),
                "--out",
                str(out),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(args.processes)
    ]
    memory: list[tuple[float, float]] = []  # (seconds into the run, listeners' RSS in MB)
    sampler = threading.Thread(target=_sample_rss, args=(listeners, procs, memory, args.rss_every), daemon=True)
    sampler.start()
    shards = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=args.duration + 300)
        if proc.returncode != 0:
            raise RuntimeError(f"load process failed ({proc.returncode})")
        shards.append(json.loads(stdout.strip().splitlines()[-1]))
    cpu_s, pg_s = cpu_seconds(*listeners) - cpu0, postgres_cpu_seconds() - pg0
    latency = np.concatenate([np.fromfile(out / f"latency-{i}.f64") for i in range(args.processes)])
    acked = np.concatenate([np.fromfile(out / f"acked-{i}.i64", dtype=np.int64) for i in range(args.processes)])
    total = {k: sum(s[k] for s in shards) for k in ("intended", "sent", "acked", "failed", "unanswered")}
    total |= {k: sum(s[k] for s in shards) for k in ("login_failures", "generator_behind", "logged_in")}
    total["login_storm_s"] = max(s["login_s"] for s in shards)
    total["span_s"] = max(s["span_s"] for s in shards)
    if len(latency) == 0:
        latency = np.array([0.0])
    for q in (50, 95, 99):
        total[f"p{q}_ms"] = round(float(np.percentile(latency, q)), 1)
    total["max_ms"] = round(float(latency.max()), 1)
    total["listener_cpu_s"] = round(cpu_s, 1)
    total["postgres_cpu_s"] = round(pg_s, 1)
    total["_acked_pairs"] = acked
    sampler.join(args.rss_every + 5)
    settled = [m for m in memory if m[0] >= 0.2 * args.duration]  # after the first fifth: warmed up
    total["rss_mb_start"] = round(memory[0][1], 1) if memory else None
    total["rss_mb_end"] = round(memory[-1][1], 1) if memory else None
    total["rss_mb_max"] = round(max(m[1] for m in memory), 1) if memory else None
    total["rss_slope_mb_per_min"] = round(slope_per_min(settled), 3)
    total["rss_samples"] = len(memory)
    return total


def _sample_rss(pids: list[int], load: list[subprocess.Popen], into: list, every: float) -> None:
    """The listeners' resident memory every `every` seconds while the load runs."""
    t0 = time.monotonic()
    while any(p.poll() is None for p in load):
        into.append((time.monotonic() - t0, rss_mb(*pids)))
        deadline = time.monotonic() + every
        while time.monotonic() < deadline and any(p.poll() is None for p in load):
            time.sleep(0.5)


def _check(engine, result: dict, duration: float) -> dict:
    """Stored and lost, fix by fix: every acknowledged (device, fix time) must be in position."""
    acked = result.pop("_acked_pairs")
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE acked (device_id bigint, ms bigint) ON COMMIT DROP")
            with cur.copy("COPY acked FROM STDIN") as cp:
                pairs = acked.reshape(-1, 2)
                cp.write("".join(f"{d}\t{s}\n" for d, s in pairs))
            cur.execute("SELECT count(*) FROM position")
            stored = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM position p "
                "WHERE p.device_id = a.device_id AND p.fix_time = timestamptz 'epoch' + a.ms * interval '1 ms')"
            )
            lost = cur.fetchone()[0]
        conn.execute(sql("TRUNCATE position, device_state"))
    result["stored"] = stored
    result["lost"] = lost
    # Stored over the time it took: the schedule, or longer if the answers came late.
    result["stored_per_s"] = round(stored / max(duration, result["span_s"]))
    result["postgres_cpu_ms_per_fix"] = round(result["postgres_cpu_s"] * 1000 / max(1, stored), 3)
    result["listener_cpu_ms_per_fix"] = round(result["listener_cpu_s"] * 1000 / max(1, stored), 3)
    return result


def _listeners(name: str, args, url: str, dsn: str, port: int, tmp: Path) -> list[subprocess.Popen]:
    if name == "baseline":
        cmd = [sys.executable, "-m", "lawgrid.bench.baseline_listener", "--protocol", args.protocol]
        return [subprocess.Popen(cmd + ["--dsn", dsn, "--port", str(port)], stdout=subprocess.PIPE, text=True)]
    other = free_port()
    env = {
        **os.environ,
        "LAWGRID_DATABASE_URL": url,
        "LAWGRID_INGEST_HOST": "127.0.0.1",
        "LAWGRID_JT808_PORT": str(port if args.protocol == "jt808" else other),
        "LAWGRID_OSMAND_PORT": str(port if args.protocol == "osmand" else other),
        "LAWGRID_INGEST_MAX_CONNECTIONS_PER_ADDRESS": "0",  # the whole fleet comes from 127.0.0.1
        "LAWGRID_DATA_DIR": str(tmp / "data"),
        "LAWGRID_INGEST_PROCESSES": str(args.listeners),  # `lawgrid ingest` starts and watches them
    }
    for unset in ("LAWGRID_REDIS_URL", "LAWGRID_MQTT_URL", "LAWGRID_DATABASE_OWNER_URL", "LAWGRID_INGEST_WORKER"):
        env.pop(unset, None)
    return [
        subprocess.Popen([sys.executable, "-m", "lawgrid.cli", "ingest"], env=env, stdout=subprocess.PIPE, text=True)
    ]


def run(runtime, args) -> dict:
    if getattr(args, "soak", None):  # a long run at a steady load: does the listeners' memory level off?
        args.duration = float(args.soak)
    args.rss_every = max(1.0, min(30.0, args.duration / 60))
    if args.listeners is None:  # as `lawgrid ingest` would run on this machine
        args.listeners = ingest_procs.auto_processes(os.cpu_count())
    if args.protocol == "jt808" and args.rate > 1:
        raise SystemExit("JT/T 808 times have one-second resolution: --rate 1 at most")
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=2)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
        # A body camera (JT/T 808) and a phone (OsmAnd) for every officer.
        seed_organisation(s, officers=max(100, args.devices), seed=3)
        rows = s.execute(
            sql(
                """
            SELECT DISTINCT ON (d.id) d.id, d.identifier, ST_Y(p.geom), ST_X(p.geom),
                   coalesce(d.terminal_id, d.device_key)
            FROM device d JOIN officer_area oa ON oa.officer_id = d.officer_id
            JOIN township t ON t.code = oa.township_code, ST_PointOnSurface(t.geom) AS p(geom)
            WHERE d.protocol = :protocol ORDER BY d.id LIMIT :n
            """
            ),
            {"n": args.devices, "protocol": args.protocol},
        ).all()
    dsn = db.raw_psycopg_url(engine)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        devices_file = Path(tmp) / "devices.json"
        devices_file.write_text(json.dumps([[r[0], r[1], r[2], r[3], r[4]] for r in rows]))
        for name in ("lawgrid", "baseline"):
            port = free_port()
            procs = _listeners(name, args, url, dsn, port, Path(tmp))
            try:
                for proc in procs:
                    _wait_listening(proc, name)
                result = _drive(args, devices_file, port, Path(tmp) / name, [p.pid for p in procs])
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(30)
            results[name] = _check(engine, result, args.duration)
    engine.dispose()
    ours, base = results["lawgrid"], results["baseline"]
    intended_per_s = len(rows) * args.rate
    return {
        "bench": "ingest",
        "protocol": args.protocol,
        "devices": len(rows),
        "rate_hz": args.rate,
        "duration_s": args.duration,
        "processes": args.processes,
        "listeners": args.listeners,
        "intended_msgs_per_s": round(intended_per_s),
        "offered_msgs_per_s": round(ours["sent"] / args.duration),
        "shortfall": ours["intended"] - ours["sent"],
        "msgs_per_s": ours["stored_per_s"],
        "stored": ours["stored"],
        "acked": ours["acked"],
        "lost": ours["lost"],
        "failed": ours["failed"] + ours["unanswered"],
        "p50_ms": ours["p50_ms"],
        "p95_ms": ours["p95_ms"],
        "p99_ms": ours["p99_ms"],
        "login_storm_s": ours["login_storm_s"],
        "rss_mb_start": ours["rss_mb_start"],
        "rss_mb_end": ours["rss_mb_end"],
        "rss_slope_mb_per_min": ours["rss_slope_mb_per_min"],
        "baseline_rss_slope_mb_per_min": base["rss_slope_mb_per_min"],
        "lawgrid": ours,
        "baseline": base,
        "baseline_is": f"minimal asyncio {args.protocol} listener, COPY batches into the real position table, "
        "ack after commit (lawgrid/bench/baseline_listener.py)",
        "ratio": round(ours["stored_per_s"] / max(1, base["stored_per_s"]), 3),
        "target": "stored = intended, p99 <= 1000 ms, failed = 0, lost = 0 (OsmAnd: 10,000/s at 5,000 x 2 Hz; "
        "JT/T 808: 6,000/s at 6,000 x 1 Hz, ratio >= 0.8)",
        "note": "latency from the time each position was due (open loop), not from when it was sent; "
        "RSS of `lawgrid ingest` and its listeners, slope fitted after the first fifth of the run",
    }
