"""The map's palette: no target domain looks like a device state, SOS or an alarm, and no two
domains look alike (RGB distance)."""

import itertools
import math

from dashboard.palette import DOMAIN_PALETTE, LIVE_COLORS


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def test_domains_never_share_a_colour_with_the_live_layer():
    nearest = min(math.dist(rgb(d), rgb(s)) for d in DOMAIN_PALETTE for s in LIVE_COLORS.values())
    assert nearest >= 45


def test_domains_and_states_are_told_apart_among_themselves():
    assert min(math.dist(rgb(a), rgb(b)) for a, b in itertools.combinations(DOMAIN_PALETTE, 2)) >= 35
    assert min(math.dist(rgb(a), rgb(b)) for a, b in itertools.combinations(LIVE_COLORS.values(), 2)) >= 60
