"""Validation of decoded positions before they are stored: coordinates in range and near
the district, no fixes from the future, impossible speeds flagged, duplicates dropped."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from geo.places.distance import haversine_m
from geo.telemetry.positions import Fix

# Binhai's bounding box with a margin: officers cross into neighbouring districts.
BBOX = (116.9, 38.35, 118.3, 39.55)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
IMPOSSIBLE_KMH = 250.0


@dataclass
class _Last:
    fix_time: dt.datetime
    lon: float
    lat: float
    recording: bool | None


@dataclass
class Validator:
    """Keeps the last accepted fix per device (in memory) to judge the next one."""

    rejected: Counter = field(default_factory=Counter)
    _last: dict[int, _Last] = field(default_factory=dict)

    def check(self, fix: Fix, now: dt.datetime | None = None) -> str | None:
        """None if fix is accepted (possibly flagged), else the reason it is dropped."""
        now = now or dt.datetime.now(dt.UTC)
        reason = self._reason(fix, now)
        if reason:
            self.rejected[reason] += 1
            return reason
        last = self._last.get(fix.device_id)
        if last and fix.fix_time > last.fix_time:
            seconds = (fix.fix_time - last.fix_time).total_seconds()
            kmh = haversine_m(last.lon, last.lat, fix.lon, fix.lat) / seconds * 3.6
            if kmh > IMPOSSIBLE_KMH:
                fix.attributes["impossible_speed_kmh"] = round(kmh)
        if last and last.recording and fix.recording is False:
            fix.attributes["recording_stopped"] = True
        if not last or fix.fix_time > last.fix_time:
            recording = fix.recording if fix.recording is not None else (last.recording if last else None)
            self._last[fix.device_id] = _Last(fix.fix_time, fix.lon, fix.lat, recording)
        return None

    def _reason(self, fix: Fix, now: dt.datetime) -> str | None:
        if not (math.isfinite(fix.lat) and math.isfinite(fix.lon)):
            return "coordinates_not_numbers"
        if not (-90 <= fix.lat <= 90 and -180 <= fix.lon <= 180):
            return "coordinates_out_of_range"
        if fix.lat == 0 and fix.lon == 0:
            return "no_gnss_fix"
        minx, miny, maxx, maxy = BBOX
        if not (minx <= fix.lon <= maxx and miny <= fix.lat <= maxy):
            return "far_from_district"
        if fix.fix_time > now + FUTURE_TOLERANCE:
            return "time_in_future"
        last = self._last.get(fix.device_id)
        if last and fix.fix_time == last.fix_time:
            return "duplicate"
        return None
