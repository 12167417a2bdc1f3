"""`lawgrid bench ingest`: see ingest_open.py (open loop, JT/T 808 or OsmAnd, LawGrid's
listeners beside a minimal baseline in the same run)."""

from lawgrid.bench.ingest_open import run

__all__ = ["run"]
