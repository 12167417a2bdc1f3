"""Vendor profiles: what a terminal's vendor-defined additional items mean.

JT/T 808 leaves items 0xE1-0xFF to vendors (and vendors also use the unassigned 0x80-0xDF),
so the same id means different things on different firmware: 0xE1 is camera state on one
body camera and battery level on another terminal. A device's profile is set at import
(`lawgrid import devices`, column 厂商协议/profile); an item its profile does not name is
kept raw in the position's attributes (`vendor_items`), never guessed at.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ingest.jt808.messages import ITEM_CAMERA

Reader = Callable[[bytes], dict]


def _camera(v: bytes) -> dict:
    return {"camera": v[0]} if len(v) == 1 else {}


def _battery_pct(v: bytes) -> dict:
    return {"battery_pct": float(v[0])} if len(v) == 1 and v[0] <= 100 else {}


def _power_decivolts(v: bytes) -> dict:
    return {"power_v": struct.unpack(">H", v)[0] / 10} if len(v) == 2 else {}


def _battery_centivolts(v: bytes) -> dict:
    return {"battery_v": struct.unpack(">H", v)[0] / 100} if len(v) == 2 else {}


def _signal_power_battery(v: bytes) -> dict:
    if len(v) != 6:
        return {}
    signal, power_mv, battery_mv, satellites = struct.unpack(">BHHB", v)
    return {"signal": signal, "power_v": power_mv / 1000, "battery_v": battery_mv / 1000, "satellites": satellites}


PROFILES: dict[str, dict[int, Reader]] = {
    # No vendor item interpreted: the safe default for a terminal of unknown firmware.
    "standard": {},
    # The body cameras LawGrid ships with: 0xE1, one byte, bit 0 recording, bit 1 storage full.
    "lawgrid-camera": {ITEM_CAMERA: _camera},
    # Terminals that report their battery level (percent) in 0xE1.
    "battery-e1": {ITEM_CAMERA: _battery_pct},  # the same id, another meaning
    # Huabao-family firmware: external power (0.1 V), battery level, battery voltage (0.01 V),
    # and 0xEE = signal, external power (mV), battery (mV), satellites.
    "huabao": {
        0xD3: _power_decivolts,
        0xD4: _battery_pct,
        0xD5: _battery_centivolts,
        0xEE: _signal_power_battery,
        0xFE: _battery_pct,
    },
}
DEFAULT_BY_KIND = {"body_camera": "lawgrid-camera", "terminal": "standard"}
VENDOR_FROM = 0x80  # items from here on are vendor-defined (or unassigned) in 2013 and 2019
