"""The position table's monthly partitions: created ahead and dropped past retention, once a day,
under an advisory lock so that two processes never create the same one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

PARTITION_LOCK = 0x4C47_0004  # advisory lock: one process at a time keeps the partitions ("LG" 4)


def ensure_partitions(session: Session, around: dt.datetime | None = None) -> int:
    """Last month's, this month's and next month's position partitions (so next month's
    exists before it starts); returns how many were created."""
    around = around or dt.datetime.now(dt.UTC)
    # Several ingest processes keep them: one at a time, or two would create the same table.
    session.execute(text("SELECT pg_advisory_xact_lock(:ns)"), {"ns": PARTITION_LOCK})
    created = session.execute(
        text("SELECT lawgrid_ensure_position_partitions(:t - interval '1 month', 3)"), {"t": around}
    ).scalar_one()
    return int(created)


def maintain_partitions(session: Session, now: dt.datetime, retention_months: int) -> dict[str, Any]:
    """The daily upkeep of the position table: partitions ahead, months past the retention
    dropped, and whether anything fell into the default partition (it should stay empty: a
    row there blocks creating its month's partition)."""
    created = ensure_partitions(session, now)
    first_kept = dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC)
    for _ in range(retention_months):
        first_kept = (first_kept - dt.timedelta(days=1)).replace(day=1)
    dropped = session.execute(text("SELECT lawgrid_drop_position_partitions(:b)"), {"b": first_kept}).scalar_one()
    stray = session.execute(text("SELECT count(*) FROM (SELECT 1 FROM position_default LIMIT 1000) d")).scalar_one()
    return {"created": created, "dropped": list(dropped or []), "default_rows": int(stray), "kept_from": first_kept}
