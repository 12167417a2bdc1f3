"""JT/T 808 frames built from the standard, decoded and encoded without I/O."""

import datetime as dt
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.infra.timezone import BEIJING
from ingest.jt808 import frames as jt808_frames
from ingest.jt808 import messages, profiles

PHONE = "13800000001"
WHEN = dt.datetime(2026, 11, 24, 9, 30, 15, tzinfo=BEIJING)


def raw_content(frame: bytes) -> bytes:
    assert frame[0] == frame[-1] == 0x7E
    return frame[1:-1]


def test_known_frame_from_the_standard_examples():
    # A 2013 heartbeat from terminal 013800000001, serial 1: 7e 0002 0000 013800000001 0001 cc 7e
    payload = bytes.fromhex("000200000138000000010001")
    frame = b"\x7e" + payload + bytes([jt808_frames.xor(payload)]) + b"\x7e"
    assert frame == jt808_frames.encode(jt808_frames.HEARTBEAT, PHONE, 1)
    msg = jt808_frames.decode(raw_content(frame))
    assert (msg.header.msg_id, msg.header.phone, msg.header.serial, msg.body) == (0x0002, PHONE, 1, b"")


def test_escaping_of_0x7e_and_0x7d():
    assert jt808_frames.escape(b"\x30\x7e\x08\x7d\x55") == b"\x30\x7d\x02\x08\x7d\x01\x55"
    assert jt808_frames.unescape(b"\x30\x7d\x02\x08\x7d\x01\x55") == b"\x30\x7e\x08\x7d\x55"
    with pytest.raises(jt808_frames.FrameError) as err:
        jt808_frames.unescape(b"\x7d\x05")
    assert err.value.reason == "bad_escape"


@given(st.binary(max_size=300))
def test_escape_roundtrip_and_no_bare_flags(data):
    escaped = jt808_frames.escape(data)
    assert 0x7E not in escaped
    assert jt808_frames.unescape(escaped) == data


def test_location_2013_with_alarms_hemispheres_and_additional_items():
    body = messages.location_body(
        39.0131,
        117.668309,
        WHEN,
        alarm=0b1 | 1 << 8,
        speed_kmh=36.5,
        course=270,
        altitude=12,
        camera=0b11,
        mileage_km=1234.5,
        signal=25,
    )
    frame = jt808_frames.encode(jt808_frames.LOCATION, PHONE, 7, body)
    msg = jt808_frames.decode(raw_content(frame))
    loc = messages.parse_location(msg.body, profiles.PROFILES["lawgrid-camera"])
    assert (loc.lat, loc.lon) == (39.0131, 117.668309)
    assert loc.alarms == ["sos", "power_loss"]
    assert loc.speed_kmh == 36.5 and loc.course == 270 and loc.altitude_m == 12
    assert loc.time == WHEN and loc.time.utcoffset() == dt.timedelta(0)  # read as Beijing time, kept as UTC
    assert loc.extras["mileage_km"] == 1234.5 and loc.extras["signal"] == 25
    assert loc.recording is True and loc.storage_full is True
    south_west = messages.parse_location(messages.location_body(-33.5, -70.25, WHEN))
    assert (south_west.lat, south_west.lon) == (-33.5, -70.25)


def test_2019_header_with_version_and_ten_byte_phone():
    frame = jt808_frames.encode(
        jt808_frames.LOCATION, "12345678901234567890", 3, messages.location_body(39.0, 117.6, WHEN), version=1
    )
    msg = jt808_frames.decode(raw_content(frame))
    assert msg.header.is_2019 and msg.header.version == 1
    assert msg.header.phone == "12345678901234567890"
    assert messages.parse_location(msg.body).lat == 39.0


def test_registration_bodies_both_versions():
    reg = messages.parse_registration(messages.registration_body("CAM42"), is_2019=False)
    assert (reg.maker, reg.model, reg.terminal_id, reg.plate) == ("LGRID", "BODYCAM-1", "CAM42", "津A00000")
    reg19 = messages.parse_registration(messages.registration_body("CAM42", is_2019=True), is_2019=True)
    assert reg19.terminal_id == "CAM42"
    assert messages.parse_authentication(messages.authentication_body("AB12", is_2019=True), True) == "AB12"
    assert messages.parse_authentication(b"AB12", False) == "AB12"


def test_batch_upload():
    locs = [messages.location_body(39.0 + i / 100, 117.6, WHEN + dt.timedelta(seconds=i)) for i in range(3)]
    parsed = messages.parse_batch(messages.batch_body(locs, kind=1))
    assert [round(p.lat, 2) for p in parsed] == [39.0, 39.01, 39.02]


def test_bad_check_code_and_length_keep_the_header_for_the_error_response():
    frame = bytearray(jt808_frames.encode(jt808_frames.HEARTBEAT, PHONE, 9))
    frame[-2] ^= 0xFF
    with pytest.raises(jt808_frames.FrameError) as err:
        jt808_frames.decode(bytes(frame[1:-1]))
    assert err.value.reason == "bad_checksum" and err.value.header.serial == 9
    payload = struct.pack(">HH", jt808_frames.LOCATION, 28) + jt808_frames.to_bcd(PHONE, 6) + b"\x00\x0a" + b"\x00" * 5
    with pytest.raises(jt808_frames.FrameError) as err:
        jt808_frames.decode(payload + bytes([jt808_frames.xor(payload)]))
    assert err.value.reason == "bad_length" and err.value.header.msg_id == jt808_frames.LOCATION


def test_truncated_and_garbage_input():
    with pytest.raises(jt808_frames.FrameError) as err:
        jt808_frames.decode(b"\x00\x02\x00")
    assert err.value.reason == "truncated"
    splitter = jt808_frames.FrameSplitter()
    good = jt808_frames.encode(jt808_frames.HEARTBEAT, PHONE, 1)
    frames = splitter.feed(b"garbage" + good[:5])
    assert frames == [] and splitter.garbage == 1
    frames = splitter.feed(good[5:] + good + b"\x7e\x7e" + good)
    assert frames == [good[1:-1]] * 3


def test_subpackaged_header():
    frame = jt808_frames.encode(jt808_frames.LOCATION, PHONE, 5, b"\x01\x02", packet=(2, 1))
    msg = jt808_frames.decode(raw_content(frame))
    assert msg.header.subpackaged and (msg.header.packet_total, msg.header.packet_index) == (2, 1)
    assert msg.body == b"\x01\x02"


def test_platform_messages():
    assert messages.general_response(0x1234, 0x0200, 0) == bytes.fromhex("1234020000")
    assert messages.register_response(7, jt808_frames.REG_OK, "AB12") == b"\x00\x07\x00AB12"
    assert messages.register_response(7, jt808_frames.REG_NO_TERMINAL, "x") == b"\x00\x07\x04"
    assert messages.text_message("请到现场") == b"\x08" + "请到现场".encode("gbk")
