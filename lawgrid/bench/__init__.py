"""`lawgrid bench NAME`: measure one capability against a baseline run alongside it, and
print one JSON line. Benchmarks never touch real data: they work in a rolled-back
transaction or in a database of their own (`lawgrid_bench`)."""

from __future__ import annotations

import importlib

NAMES = ("seed", "ingest", "push", "map", "dispatch", "coverage", "screens", "cases", "documents")


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

    from geo import db

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
