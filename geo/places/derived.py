"""Data derived from the registry, refreshed in one place. Every registry change (target,
officer and township imports, the seed) calls `registry_changed` inside its own transaction,
so the map's cell pyramid (map counts, /api/townships, coverage denominators) and the coverage
facts (townships, risk levels and officer scopes as they now are) commit with the change or
not at all.

The cells are built beside the live table and swapped in at the very end, so map viewports
keep answering from the old cells while an import runs and wait only for the swap to commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo.coverage import facts as coverage_facts
from geo.places import target_map


def registry_changed(session: Session, *, facts: bool = True) -> dict[str, Any]:
    """Refresh everything derived from the registry; facts=False when no inspection can be
    affected (a registry with no completed inspections yet)."""
    summary: dict[str, Any] = {}
    if facts:
        summary["coverage_facts"] = coverage_facts.rebuild(session)
    summary["cell_targets"] = target_map.refresh_target_cells(session)
    return summary
