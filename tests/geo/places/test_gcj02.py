import numpy as np
from pyproj import Geod

from geo.places.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def test_offset_around_tanggu_is_hundreds_of_metres():
    lon, lat = 117.668309, 39.0131
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, metres = GEOD.inv(lon, lat, float(glon), float(glat))
    assert 200 < metres < 800


def test_inverse_recovers_wgs84_to_centimetres():
    rng = np.random.default_rng(1)
    lon = rng.uniform(117.1, 118.0, 1000)
    lat = rng.uniform(38.5, 39.3, 1000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    _, _, metres = GEOD.inv(lon, lat, back_lon, back_lat)
    assert metres.max() < 0.01
