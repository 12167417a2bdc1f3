"""Seeding: our generator + COPY against a plain COPY of the same rows from a file."""

from __future__ import annotations

import os
import tempfile
import time

from sqlalchemy import text

from demo import synthetic
from demo.seed import seed_targets
from geo.infra import db
from geo.infra.bulk import TARGET_COPY_COLUMNS, copy_text
from geo.places import queries
from geo.places.reference import load_reference
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR


def run(runtime, args) -> dict:
    """Our seed (generate + COPY) against a plain COPY of the same rows from a file, in the
    benchmarks' own database (the configured one, a demo's included, is never touched)."""
    n = args.targets
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
    session = sessions()
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
        engine.dispose()
    ours_rate, base_rate = n / ours_s, n / baseline_s
    return {
        "bench": "seed",
        "targets": n,
        "rows_written": count,
        "seconds": round(ours_s, 2),
        "rows_per_s": round(ours_rate),
        "baseline": f"plain COPY of a pre-generated {size_mb:.0f} MB file into the same indexed table",
        "baseline_seconds": round(baseline_s, 2),
        "baseline_rows_per_s": round(base_rate),
        "ratio": round(ours_rate / base_rate, 3),
        "target": "ratio >= 0.5",
    }
