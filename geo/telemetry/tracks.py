"""Reading a track: where an officer stopped, and for how long."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.places.distance import local_m as _metres


def find_stops(
    fixes: list[tuple[dt.datetime, float, float]], radius_m: float = 50.0, min_duration_s: float = 180.0
) -> list[dict[str, Any]]:
    """Stops along a time-ordered track of (time, lon, lat): runs of fixes that stay within
    radius_m of the run's first fix for at least min_duration_s."""
    stops = []
    i, n = 0, len(fixes)
    while i < n:
        t0, lon0, lat0 = fixes[i]
        j = i
        while j + 1 < n and _metres(lon0, lat0, fixes[j + 1][1], fixes[j + 1][2]) <= radius_m:
            j += 1
        duration = (fixes[j][0] - t0).total_seconds()
        if j > i and duration >= min_duration_s:
            run = fixes[i : j + 1]
            stops.append(
                {
                    "start": t0.isoformat(),
                    "end": fixes[j][0].isoformat(),
                    "duration_s": round(duration),
                    "fixes": len(run),
                    "first_index": i,
                    "lon": sum(f[1] for f in run) / len(run),
                    "lat": sum(f[2] for f in run) / len(run),
                }
            )
            i = j + 1
        else:
            i += 1
    return stops
