"""`bench ingest --protocol jt808`: the district's terminals over JT/T 808, open loop.

Two listeners are driven in the same run by the same load (lawgrid/bench/jt808_load.py,
spread over --processes processes): LawGrid's, as `lawgrid ingest` in a process of its own,
and the minimal baseline of lawgrid/bench/jt808_baseline.py. Each run starts with a
reconnect storm (every terminal logs in at once, as after a restart), then every terminal
reports once a second on its own schedule. Reported per listener: the login storm, stored
per second, p50/p95/p99 from when each position was due to its acknowledgement, failed,
unanswered, and lost (acknowledged but not in the table, checked fix by fix); and the CPU
the listener and PostgreSQL spent. `ratio` = LawGrid's stored rate / the baseline's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text as sql

from geo import db
from geo.reference import load_reference
from ingest.seed import seed_organisation
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR
from lawgrid.screens import free_port

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def _postgres_cpu_s() -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += _cpu_s(int(stat.parent.name))
    return total


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


def _drive(args, devices_file: Path, port: int, out: Path, listener_pid: int) -> dict:
    """Run the load processes against one listener; merge their figures."""
    out.mkdir(parents=True, exist_ok=True)
    start_at = time.time() + max(8.0, args.devices / 600)  # the login storm first
    cpu0, pg0 = _cpu_s(listener_pid), _postgres_cpu_s()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lawgrid.bench.jt808_load",
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
    shards = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=args.duration + 300)
        if proc.returncode != 0:
            raise RuntimeError(f"load process failed ({proc.returncode})")
        shards.append(json.loads(stdout.strip().splitlines()[-1]))
    cpu_s, pg_s = _cpu_s(listener_pid) - cpu0, _postgres_cpu_s() - pg0
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
    return total


def _check(engine, result: dict, duration: float) -> dict:
    """Stored and lost, fix by fix: every acknowledged (device, second) must be in position."""
    acked = result.pop("_acked_pairs")
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE acked (device_id bigint, sec bigint) ON COMMIT DROP")
            with cur.copy("COPY acked FROM STDIN") as cp:
                pairs = acked.reshape(-1, 2)
                cp.write("".join(f"{d}\t{s}\n" for d, s in pairs))
            cur.execute("SELECT count(*) FROM position")
            stored = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM position p "
                "WHERE p.device_id = a.device_id AND p.fix_time = to_timestamp(a.sec))"
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


def run(runtime, args) -> dict:
    if args.rate > 1:
        raise SystemExit("JT/T 808 times have one-second resolution: --rate 1 at most")
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url, pool_size=2)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        load_reference(s, REFERENCE_DIR)
        seed_organisation(s, officers=max(100, args.devices), seed=3)  # a body camera each (JT/T 808)
        rows = s.execute(
            sql(
                """
            SELECT DISTINCT ON (d.id) d.id, d.identifier, ST_Y(p.geom), ST_X(p.geom)
            FROM device d JOIN officer_area oa ON oa.officer_id = d.officer_id
            JOIN township t ON t.code = oa.township_code, ST_PointOnSurface(t.geom) AS p(geom)
            WHERE d.protocol = 'jt808' ORDER BY d.id LIMIT :n
            """
            ),
            {"n": args.devices},
        ).all()
    dsn = db.raw_psycopg_url(engine)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        devices_file = Path(tmp) / "devices.json"
        devices_file.write_text(json.dumps([[r[0], r[1], r[2], r[3]] for r in rows]))
        for name in ("lawgrid", "baseline"):
            port = free_port()
            if name == "lawgrid":
                env = {
                    **os.environ,
                    "LAWGRID_DATABASE_URL": url,
                    "LAWGRID_DATA_DIR": str(Path(tmp) / "data"),
                    "LAWGRID_INGEST_HOST": "127.0.0.1",
                    "LAWGRID_JT808_PORT": str(port),
                    "LAWGRID_OSMAND_PORT": str(free_port()),
                    "LAWGRID_INGEST_MAX_CONNECTIONS_PER_ADDRESS": "0",  # the whole fleet comes from 127.0.0.1
                }
                for unset in ("LAWGRID_REDIS_URL", "LAWGRID_MQTT_URL", "LAWGRID_DATABASE_OWNER_URL"):
                    env.pop(unset, None)
                cmd = [sys.executable, "-m", "lawgrid.cli", "ingest"]
            else:
                env = dict(os.environ)
                cmd = [sys.executable, "-m", "lawgrid.bench.jt808_baseline", "--dsn", dsn, "--port", str(port)]
            listener = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
            try:
                _wait_listening(listener, name)
                result = _drive(args, devices_file, port, Path(tmp) / name, listener.pid)
            finally:
                listener.terminate()
                listener.wait(30)
            results[name] = _check(engine, result, args.duration)
    engine.dispose()
    ours, base = results["lawgrid"], results["baseline"]
    intended_per_s = len(rows) * args.rate
    return {
        "bench": "ingest",
        "protocol": "jt808",
        "devices": len(rows),
        "rate_hz": args.rate,
        "duration_s": args.duration,
        "processes": args.processes,
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
        "lawgrid": ours,
        "baseline": base,
        "baseline_is": "minimal asyncio listener, same codec, COPY batches into the real position table, "
        "ack after commit (lawgrid/bench/jt808_baseline.py)",
        "ratio": round(ours["stored_per_s"] / max(1, base["stored_per_s"]), 3),
        "target": "stored = offered (6,000/s at 6,000 x 1 Hz), p99 <= 1000 ms, failed = 0, lost = 0, ratio >= 0.8",
        "note": "latency from the time each position was due (open loop), not from when it was sent",
    }
