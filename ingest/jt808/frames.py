"""JT/T 808 (2011/2013 and 2019) framing, parsing and building. Pure functions, no I/O.

A frame on the wire: 0x7e | escaped(header + body + check code) | 0x7e, where 0x7e is
escaped as 0x7d 0x02 and 0x7d as 0x7d 0x01, and the check code is the XOR of header and
body bytes. Times are BCD YYMMDDhhmmss in Beijing time (UTC+8).

This module: framing (escape, check code, the splitter), the header, and BCD."""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

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
