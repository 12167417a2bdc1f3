"""`lawgrid bench NAME`: measure one capability against a baseline run alongside it, and
print one JSON line. Benchmarks never touch real data: they work in a rolled-back
transaction or in a database of their own (`lawgrid_bench`)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

NAMES = ("seed", "ingest", "push", "map", "dispatch", "coverage", "screens", "cases", "documents", "supervision")


def run(name: str, runtime, args) -> dict:
    if name not in NAMES:
        raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(NAMES)}")
    return importlib.import_module(f"lawgrid.bench.{name}").run(runtime, args)


def bench_database(runtime) -> str:
    """A fresh database beside the configured one, so benchmarks never touch real data."""
    from sqlalchemy.engine import make_url

    from lawgrid.embedded_db import EmbeddedCluster

    settings = runtime.settings
    if not settings.database_url:
        cluster = EmbeddedCluster(settings.resolved_data_dir)
        cluster.drop_database("lawgrid_bench")
        cluster.ensure_database("lawgrid_bench")
        return cluster.url("lawgrid_bench")
    from sqlalchemy import text as sql

    from geo.infra import db

    admin = db.make_engine(runtime.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sql('DROP DATABASE IF EXISTS "lawgrid_bench" WITH (FORCE)'))
        conn.execute(sql('CREATE DATABASE "lawgrid_bench"'))
    admin.dispose()
    url = make_url(runtime.url).set(database="lawgrid_bench").render_as_string(hide_password=False)
    with db.make_engine(url).begin() as conn:
        conn.execute(sql("CREATE EXTENSION IF NOT EXISTS postgis"))
    return url


def psycopg_sql(sql: str) -> str:
    """SQLAlchemy's :name parameters as psycopg's %(name)s (leaving ::casts alone), for
    baselines that run the same SQL directly."""
    import re

    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def _proc_stats() -> dict[int, list[str]]:
    """/proc/PID/stat of every process, split after the command name."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        out[int(stat.parent.name)] = [text[text.index("(") + 1 : text.rindex(")")], *text.rsplit(")", 1)[1].split()]
    return out


def _descendants(stats: dict[int, list[str]], pids: tuple[int, ...]) -> set[int]:
    """The processes and every live descendant of theirs."""
    tree, frontier = set(pids), list(pids)
    while frontier:
        parent = frontier.pop()
        for pid, f in stats.items():
            if int(f[2]) == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def cpu_seconds(*pids: int) -> float:
    """User + system CPU seconds of processes, their reaped children and their live
    descendants (gunicorn's worker, a listener's threads are in their process already)."""
    stats = _proc_stats()
    tick = os.sysconf("SC_CLK_TCK")
    tree = _descendants(stats, pids)
    return sum(sum(int(stats[p][i]) for i in (12, 13, 14, 15)) for p in tree if p in stats) / tick


def rss_mb(*pids: int) -> float:
    """Resident memory (MB) of processes and their live descendants (a supervisor's listeners)."""
    stats = _proc_stats()
    tree = _descendants(stats, pids)
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(int(stats[p][22]) * page for p in tree if p in stats) / 2**20  # field 24: rss in pages


def slope_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute (0 for fewer than two)."""
    if len(samples) < 2:
        return 0.0
    t = [s[0] for s in samples]
    y = [s[1] for s in samples]
    mt, my = sum(t) / len(t), sum(y) / len(y)
    var = sum((x - mt) ** 2 for x in t)
    return 0.0 if var == 0 else sum((x - mt) * (v - my) for x, v in zip(t, y, strict=True)) / var * 60


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process on the machine, ended backends included (their
    postmaster reaped them)."""
    stats = _proc_stats()
    tick = os.sysconf("SC_CLK_TCK")
    return sum(sum(int(f[i]) for i in (12, 13, 14, 15)) for f in stats.values() if f[0] == "postgres") / tick
