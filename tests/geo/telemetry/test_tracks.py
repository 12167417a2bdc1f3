import datetime as dt

from geo.telemetry.tracks import find_stops

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def walk(points):
    return [(T0 + dt.timedelta(seconds=s), lon, lat) for s, lon, lat in points]


def test_a_long_pause_is_a_stop_and_a_short_one_is_not():
    fixes = walk(
        [
            (0, 117.60, 39.00),
            (60, 117.61, 39.00),
            *[(120 + 30 * k, 117.62 + 0.00001 * k, 39.00) for k in range(11)],  # 5 min still
            (600, 117.63, 39.00),
            *[(660 + 30 * k, 117.64, 39.00) for k in range(3)],  # 1 min still
            (900, 117.65, 39.00),
        ]
    )
    stops = find_stops(fixes)
    assert len(stops) == 1
    stop = stops[0]
    assert stop["duration_s"] == 300 and stop["fixes"] == 11 and stop["first_index"] == 2
    assert abs(stop["lon"] - 117.62005) < 1e-6


def test_no_fixes_no_stops():
    assert find_stops([]) == []
    assert find_stops(walk([(0, 117.6, 39.0)])) == []
