"""JT/T 808 message bodies, parsed and built: locations (alarm bits, additional items, batches),
registration in each edition's layout, authentication, responses and text messages down."""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from geo.infra.timezone import BEIJING
from ingest.jt808.frames import REG_OK, FrameError

# Alarm flag bits (JT/T 808 table 24) that matter to enforcement devices.
ALARM_BITS = {
    0: "sos",
    1: "overspeed",
    7: "low_battery",  # main power under-voltage
    8: "power_loss",  # main power off
}
# The vendor additional item LawGrid's body cameras use for their state (the lawgrid-camera
# profile of ingest/jt808/profiles.py): 1 byte, bit 0 recording, bit 1 storage full.
ITEM_CAMERA = 0xE1


# -- bodies ---------------------------------------------------------------------------
@dataclass
class Location:
    alarm: int
    status: int
    lat: float
    lon: float
    altitude_m: int
    speed_kmh: float
    course: int
    time: dt.datetime
    extras: dict = field(default_factory=dict)

    @property
    def alarms(self) -> list[str]:
        if not self.alarm:
            return []
        return [name for bit, name in ALARM_BITS.items() if self.alarm & (1 << bit)]

    @property
    def fixed(self) -> bool:
        return bool(self.status & 0x02)

    @property
    def recording(self) -> bool | None:
        camera = self.extras.get("camera")
        return None if camera is None else bool(camera & 0x01)

    @property
    def storage_full(self) -> bool:
        return bool(self.extras.get("camera", 0) & 0x02)


# Each byte's two BCD digits as a number, or -1 where a nibble is not a decimal digit.
_BCD = tuple((hi * 10 + lo) if hi < 10 and lo < 10 else -1 for hi, lo in ((b >> 4, b & 0x0F) for b in range(256)))
_BEIJING_OFFSET = dt.timedelta(hours=8)
_times: dict[bytes, dt.datetime] = {}  # the fleet's fixes of one second share their 6 bytes


def parse_bcd_time(data: bytes) -> dt.datetime:
    """YYMMDDhhmmss in Beijing time (the years are 2000-2099), as an aware UTC time. Without
    strptime, and remembered for the second: this runs once per fix."""
    known = _times.get(data)
    if known is not None:
        return known
    if len(data) != 6:
        raise FrameError("bad_time", data.hex())
    yy, mo, dd, hh, mi, ss = (_BCD[b] for b in data)
    if min(yy, mo, dd, hh, mi, ss) < 0:
        raise FrameError("bad_time", data.hex())
    try:
        when = dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=dt.UTC) - _BEIJING_OFFSET
    except ValueError as exc:
        raise FrameError("bad_time", data.hex()) from exc
    if len(_times) >= 4096:
        _times.clear()
    _times[bytes(data)] = when
    return when


def parse_location(body: bytes, vendor: Mapping[int, Callable[[bytes], dict]] | None = None) -> Location:
    """A location body. Standard additional items are read always; vendor items (0x80 on)
    only as the device's profile says (ingest/jt808/profiles.py), otherwise kept raw."""
    if len(body) < 28:
        raise FrameError("truncated", f"location body of {len(body)} bytes")
    alarm, status, lat_raw, lon_raw, alt, speed, course = struct.unpack_from(">IIIIHHH", body, 0)
    lat = lat_raw / 1e6 * (-1 if status & 0x04 else 1)
    lon = lon_raw / 1e6 * (-1 if status & 0x08 else 1)
    loc = Location(alarm, status, lat, lon, alt, speed / 10.0, course, parse_bcd_time(body[22:28]))
    i = 28
    while i + 2 <= len(body):
        item, length = body[i], body[i + 1]
        value = body[i + 2 : i + 2 + length]
        if len(value) != length:
            # A malformed trailing item spoils only itself: the position before it is intact.
            loc.extras["malformed_item"] = item
            break
        if item == 0x01 and length == 4:
            loc.extras["mileage_km"] = struct.unpack(">I", value)[0] / 10.0
        elif item == 0x03 and length == 2:
            loc.extras["recorder_speed_kmh"] = struct.unpack(">H", value)[0] / 10.0
        elif item == 0x30 and length == 1:
            loc.extras["signal"] = value[0]
        elif item == 0x31 and length == 1:
            loc.extras["satellites"] = value[0]
        elif item >= 0x80:
            reader = vendor.get(item) if vendor else None
            if reader is not None:
                loc.extras.update(reader(value))
            else:
                loc.extras.setdefault("vendor_items", {})[f"{item:02x}"] = value[:32].hex()
        i += 2 + length
    return loc


def parse_batch(body: bytes, vendor: Mapping[int, Callable[[bytes], dict]] | None = None) -> list[Location]:
    if len(body) < 3:
        raise FrameError("truncated", "batch header")
    count, _kind = struct.unpack_from(">HB", body, 0)
    i, out = 3, []
    for _ in range(count):
        if i + 2 > len(body):
            raise FrameError("truncated", "batch item length")
        (length,) = struct.unpack_from(">H", body, i)
        out.append(parse_location(body[i + 2 : i + 2 + length], vendor))
        i += 2 + length
    return out


@dataclass
class Registration:
    province: int
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_colour: int
    plate: str


# Field widths of the registration body (maker, model, terminal id) by edition.
REGISTRATION_LAYOUTS = {2019: (11, 30, 30), 2013: (5, 20, 7), 2011: (5, 8, 7)}


def registration_edition(body: bytes, is_2019: bool) -> int:
    """2019 says so in its header. 2011 and 2013 share a header and differ only in the model
    field (8 bytes, then 20): a body too short for the 2013 layout with a one-byte plate is
    the 2011 one."""
    if is_2019:
        return 2019
    maker, model, tid = REGISTRATION_LAYOUTS[2013]
    return 2013 if len(body) >= 4 + maker + model + tid + 1 + 1 else 2011


def registration_readings(body: bytes, is_2019: bool) -> list[Registration]:
    """Every layout the body can be read in: 2019 by its header; a 2011/2013 header by both
    field widths that fit (a 2011 body with a long plate is as long as a 2013 one), the likelier
    first. The listener accepts the reading whose terminal id is the one on record."""
    if is_2019:
        return [parse_registration(body, True)]
    readings = []
    for edition in sorted((2013, 2011), key=lambda e: e != registration_edition(body, False)):
        try:
            readings.append(parse_registration(body, False, edition))
        except FrameError:
            continue
    if not readings:
        raise FrameError("truncated", f"registration body of {len(body)} bytes")
    return readings


def parse_registration(body: bytes, is_2019: bool, edition: int | None = None) -> Registration:
    maker_len, model_len, tid_len = REGISTRATION_LAYOUTS[edition or registration_edition(body, is_2019)]
    need = 4 + maker_len + model_len + tid_len + 1
    if len(body) < need:
        raise FrameError("truncated", f"registration body of {len(body)} bytes")
    province, city = struct.unpack_from(">HH", body, 0)
    i = 4
    maker = body[i : i + maker_len].rstrip(b"\x00").decode("ascii", "replace")
    i += maker_len
    model = body[i : i + model_len].rstrip(b"\x00").decode("ascii", "replace")
    i += model_len
    tid = body[i : i + tid_len].rstrip(b"\x00").decode("ascii", "replace")
    i += tid_len
    colour = body[i]
    plate = body[i + 1 :].decode("gbk", "replace")
    return Registration(province, city, maker, model, tid, colour, plate)


def parse_authentication(body: bytes, is_2019: bool) -> str:
    if is_2019:
        if not body:
            raise FrameError("truncated", "authentication")
        return body[1 : 1 + body[0]].decode("ascii", "replace")
    return body.decode("ascii", "replace")


# -- platform messages ----------------------------------------------------------------
def general_response(reply_serial: int, reply_id: int, result: int) -> bytes:
    return struct.pack(">HHB", reply_serial, reply_id, result)


def register_response(reply_serial: int, result: int, auth_code: str = "") -> bytes:
    body = struct.pack(">HB", reply_serial, result)
    return body + (auth_code.encode("ascii") if result == REG_OK else b"")


def text_message(text: str, flags: int = 0x08, *, is_2019: bool = False) -> bytes:
    """0x8300 body; flags 0x08 = show on the terminal's display (TTS 0x08 too on some)."""
    encoded = text.encode("gbk", "replace")
    return bytes([flags]) + (bytes([0]) if is_2019 else b"") + encoded


# -- builders used by the simulator and tests ------------------------------------------
def location_body(
    lat: float,
    lon: float,
    when: dt.datetime,
    *,
    alarm: int = 0,
    status: int = 0x02,
    altitude: int = 5,
    speed_kmh: float = 0.0,
    course: int = 0,
    camera: int | None = None,
    mileage_km: float | None = None,
    signal: int | None = None,
) -> bytes:
    if lat < 0:
        status |= 0x04
    if lon < 0:
        status |= 0x08
    body = struct.pack(
        ">IIIIHHH", alarm, status, round(abs(lat) * 1e6), round(abs(lon) * 1e6), altitude, round(speed_kmh * 10), course
    )
    body += bytes.fromhex(when.astimezone(BEIJING).strftime("%y%m%d%H%M%S"))
    if mileage_km is not None:
        body += bytes([0x01, 4]) + struct.pack(">I", round(mileage_km * 10))
    if signal is not None:
        body += bytes([0x30, 1, signal])
    if camera is not None:
        body += bytes([ITEM_CAMERA, 1, camera])
    return body


def registration_body(terminal_id: str = "CAM0001", *, is_2019: bool = False, edition: int = 2013) -> bytes:
    maker_len, model_len, tid_len = REGISTRATION_LAYOUTS[2019 if is_2019 else edition]
    return (
        struct.pack(">HH", 12, 116)
        + b"LGRID".ljust(maker_len, b"\x00")
        + b"BODYCAM-1"[:model_len].ljust(model_len, b"\x00")
        + terminal_id.encode()[:tid_len].ljust(tid_len, b"\x00")
        + bytes([0])
        + "津A00000".encode("gbk")
    )


def authentication_body(code: str, *, is_2019: bool = False) -> bytes:
    raw = code.encode("ascii")
    if is_2019:
        return bytes([len(raw)]) + raw + b"860000000000000".ljust(15, b"\x00") + b"V1".ljust(20, b"\x00")
    return raw


def batch_body(locations: list[bytes], kind: int = 0) -> bytes:
    out = struct.pack(">HB", len(locations), kind)
    for loc in locations:
        out += struct.pack(">H", len(loc)) + loc
    return out
