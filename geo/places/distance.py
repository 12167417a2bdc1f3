"""Distances on the earth in metres, for points given in EPSG:4326 degrees."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def haversine_many_m(lon: float, lat: float, lons: Any, lats: Any) -> Any:
    """Distances from one point to arrays of points (numpy, vectorised)."""
    p1, p2 = np.radians(lat), np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def local_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular approximation: exact enough within a few kilometres, and cheaper."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return EARTH_RADIUS_M * math.hypot(x, math.radians(lat2 - lat1))
