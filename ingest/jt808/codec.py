"""JT/T 808 (2011/2013 and 2019) framing, parsing and building. Pure functions, no I/O.

A frame on the wire: 0x7e | escaped(header + body + check code) | 0x7e, where 0x7e is
escaped as 0x7d 0x02 and 0x7d as 0x7d 0x01, and the check code is the XOR of header and
body bytes. Times are BCD YYMMDDhhmmss in Beijing time (UTC+8).
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from geo.infra.timezone import BEIJING

FLAG = 0x7E
ESC = 0x7D
MAX_FRAME = 2048  # longer means garbage or a lost delimiter

# Message ids
TERMINAL_RESPONSE = 0x0001
HEARTBEAT = 0x0002
DEREGISTER = 0x0003
REGISTER = 0x0100
AUTHENTICATE = 0x0102
LOCATION = 0x0200
BATCH_LOCATION = 0x0704
PLATFORM_RESPONSE = 0x8001
REGISTER_RESPONSE = 0x8100
TEXT_MESSAGE = 0x8300

KNOWN_IDS = {TERMINAL_RESPONSE, HEARTBEAT, DEREGISTER, REGISTER, AUTHENTICATE, LOCATION, BATCH_LOCATION}

# 0x8001 results
RESULT_OK, RESULT_FAILURE, RESULT_BAD_MESSAGE, RESULT_UNSUPPORTED = 0, 1, 2, 3
# 0x8100 results
REG_OK, REG_VEHICLE_TAKEN, REG_NO_VEHICLE, REG_TERMINAL_TAKEN, REG_NO_TERMINAL = 0, 1, 2, 3, 4

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


class FrameError(ValueError):
    """A frame that cannot be accepted; `reason` is counted by the listener."""

    def __init__(self, reason: str, detail: str = "", header: Header | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.header = header


# -- escaping and check code ----------------------------------------------------------
def escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    if ESC not in data:  # most frames: nothing escaped
        return bytes(data)
    pairs = data.count(b"\x7d\x02") + data.count(b"\x7d\x01")
    if pairs != data.count(ESC):  # every 0x7d opens an escape pair (0x01 and 0x02 are never 0x7d)
        at = next(i for i in range(len(data)) if data[i] == ESC and (i + 1 >= len(data) or data[i + 1] not in (1, 2)))
        raise FrameError("bad_escape", f"0x7d followed by {data[at + 1 : at + 2].hex() or 'nothing'}")
    return data.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def xor(data: bytes) -> int:
    """The XOR of all bytes, folded as one big integer (no loop per byte)."""
    if not data:
        return 0
    x = int.from_bytes(data, "big")
    width = 1 << (len(data) - 1).bit_length()  # bytes, a power of two; leading zeros change nothing
    while width > 1:
        width >>= 1
        x = (x >> (8 * width)) ^ (x & ((1 << (8 * width)) - 1))
    return x


class FrameSplitter:
    """Feeds stream bytes, yields the raw (still escaped) content between delimiters."""

    def __init__(self):
        self._buf = bytearray()
        self.garbage = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buf.extend(data)
        frames: list[bytes] = []
        while True:
            start = self._buf.find(FLAG)
            if start < 0:
                self.garbage += len(self._buf) > 0
                self._buf.clear()
                return frames
            if start > 0:
                self.garbage += 1
                del self._buf[:start]
            end = self._buf.find(FLAG, 1)
            if end < 0:
                if len(self._buf) > MAX_FRAME:
                    self.garbage += 1
                    self._buf.clear()
                return frames
            content = bytes(self._buf[1:end])
            if not content:  # "7e7e": treat the second flag as the next frame's start
                del self._buf[:1]
                continue
            del self._buf[: end + 1]
            frames.append(content)


# -- header ---------------------------------------------------------------------------
@dataclass
class Header:
    msg_id: int
    props: int
    phone: str
    serial: int
    version: int | None = None  # 2019 protocol version, None for 2011/2013
    packet_total: int | None = None
    packet_index: int | None = None

    @property
    def body_length(self) -> int:
        return self.props & 0x03FF

    @property
    def subpackaged(self) -> bool:
        return bool(self.props & 0x2000)

    @property
    def is_2019(self) -> bool:
        return bool(self.props & 0x4000)


@dataclass
class Message:
    header: Header
    body: bytes


def bcd(data: bytes) -> str:
    return data.hex()


def terminal_key(number: str) -> str:
    """A terminal number as devices are matched on it: leading zeros dropped (the header pads
    to 12 or 20 digits), lower-case hex where a vendor packs an IMEI, and the all-zero number
    kept as "0" rather than emptied."""
    return number.lower().lstrip("0") or "0"


@functools.lru_cache(maxsize=65536)  # a terminal's number is encoded in every answer it gets
def to_bcd(digits: str, length: int) -> bytes:
    digits = digits.rjust(length * 2, "0")
    return bytes.fromhex(digits)


def decode(content: bytes) -> Message:
    """Unescape, verify the check code and split header/body of one frame."""
    raw = unescape(content)
    if len(raw) < 13:
        raise FrameError("truncated", f"{len(raw)} bytes")
    payload, check = raw[:-1], raw[-1]
    msg_id, props = struct.unpack_from(">HH", payload, 0)
    if props & 0x4000:  # 2019: version byte + 10-byte BCD phone
        if len(payload) < 17:
            raise FrameError("truncated", "2019 header")
        version = payload[4]
        phone = bcd(payload[5:15])
        (serial,) = struct.unpack_from(">H", payload, 15)
        offset = 17
    else:
        version = None
        phone = bcd(payload[4:10])
        (serial,) = struct.unpack_from(">H", payload, 10)
        offset = 12
    header = Header(msg_id, props, terminal_key(phone), serial, version)
    if header.subpackaged:
        if len(payload) < offset + 4:
            raise FrameError("truncated", "sub-package fields", header)
        header.packet_total, header.packet_index = struct.unpack_from(">HH", payload, offset)
        offset += 4
    if xor(payload) != check:
        raise FrameError("bad_checksum", f"got {check:#04x}, computed {xor(payload):#04x}", header)
    body = payload[offset:]
    if len(body) != header.body_length:
        raise FrameError("bad_length", f"header says {header.body_length}, body has {len(body)}", header)
    return Message(header, body)


def encode(
    msg_id: int,
    phone: str,
    serial: int,
    body: bytes = b"",
    *,
    version: int | None = None,
    packet: tuple[int, int] | None = None,
) -> bytes:
    """One complete frame, delimiters included. version set means the 2019 header."""
    if len(body) > 0x03FF:
        raise ValueError("body longer than 1023 bytes: sub-package it")
    props = len(body)
    if packet:
        props |= 0x2000
    if version is not None:
        props |= 0x4000
        head = struct.pack(">HHB", msg_id, props, version) + to_bcd(phone, 10) + struct.pack(">H", serial)
    else:
        head = struct.pack(">HH", msg_id, props) + to_bcd(phone, 6) + struct.pack(">H", serial)
    if packet:
        head += struct.pack(">HH", *packet)
    payload = head + body
    return bytes([FLAG]) + escape(payload + bytes([xor(payload)])) + bytes([FLAG])


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
