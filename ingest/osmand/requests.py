"""What an OsmAnd request says: the Traccar Client's query string, form body or JSON read into a
fix (or refused as a bad request), times in any of the forms devices send, implausible values
refused."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import unquote_plus

MAX_BODY = 64 * 1024
EVENTS = {"recording_started", "recording_stopped", "sos", "low_battery", "storage_full"}
KNOTS_TO_KMH = 1.852


class BadRequest(ValueError):
    pass


def _required(params: dict, *names: str) -> float:
    value = _number(params, *names, required=True)
    assert value is not None  # required=True raised otherwise
    return value


def _number(params: dict, *names: str, required: bool = False) -> float | None:
    for name in names:
        if name in params and params[name] not in ("", None):
            try:
                value = float(params[name])
            except (TypeError, ValueError):
                raise BadRequest(f"{name} must be a number, got {params[name]!r}") from None
            if not math.isfinite(value):
                raise BadRequest(f"{name} must be finite")
            return value
    if required:
        raise BadRequest(f"missing {names[0]}")
    return None


def parse_time(value) -> dt.datetime:
    if value in (None, ""):
        return dt.datetime.now(dt.UTC)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"timestamp {text!r} is neither epoch seconds nor ISO 8601") from None
        return _plausible(parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC), text)
    if not math.isfinite(number):
        raise BadRequest(f"timestamp {text!r} is not a time")
    if number > 1e11:  # milliseconds
        number /= 1000
    try:
        parsed = dt.datetime.fromtimestamp(number, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"timestamp {text!r} is out of range") from None
    return _plausible(parsed, text)


EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # no fix of a device of ours is older


def _plausible(when: dt.datetime, text: str) -> dt.datetime:
    if when < EARLIEST:
        raise BadRequest(f"timestamp {text!r} is before 2000: a clock that was never set")
    return when


def parse_osmand(params: dict) -> tuple[str, dict]:
    """(device id, fields) from query/form parameters."""
    device_id = params.get("id") or params.get("deviceid")
    if not device_id:
        raise BadRequest("missing id")
    if "lat" not in params and "lon" not in params and "," in str(params.get("location", "")):
        params = {**params, "lat": params["location"].split(",", 1)[0], "lon": params["location"].split(",", 1)[1]}
    lat = _required(params, "lat")
    lon = _required(params, "lon")
    speed = _number(params, "speed")  # Traccar Client sends knots
    battery = _number(params, "batt", "battery")
    return device_id, dict(
        lat=lat,
        lon=lon,
        fix_time=parse_time(params.get("timestamp")),
        speed_kmh=None if speed is None else speed * KNOTS_TO_KMH,
        course=_number(params, "bearing", "heading"),
        altitude_m=_number(params, "altitude"),
        accuracy_m=_number(params, "accuracy", "hdop"),
        battery=battery,
        alarms=["sos"] if params.get("alarm") in ("sos", "general", "true", "1") else [],
        attributes={"charging": params.get("charge") in ("true", "1")} if "charge" in params else {},
    )


def parse_osmand_json(body: dict) -> tuple[str, dict]:
    """The JSON body of newer Traccar Client versions."""
    try:
        location = body["location"]
        coords = location["coords"]
        device_id = body.get("device_id") or body.get("id")
    except (KeyError, TypeError):
        raise BadRequest("JSON body needs location.coords and device_id") from None
    if not device_id:
        raise BadRequest("missing device_id")
    if not isinstance(coords, dict):
        raise BadRequest("location.coords must be an object")
    # Every number goes through the one validated parser: a string, NaN or infinity is refused here.
    params = {"lat": coords.get("latitude"), "lon": coords.get("longitude")}
    lat, lon = _required(params, "lat"), _required(params, "lon")
    battery = location.get("battery") or {}
    if not isinstance(battery, dict):
        raise BadRequest("location.battery must be an object")
    level = _number(battery, "level")
    speed = _number(coords, "speed")  # metres per second
    heading = _number(coords, "heading")  # -1: the phone knows no course
    extras = location.get("extras") or {}
    if not isinstance(extras, dict):
        extras = {}
    return str(device_id), dict(
        lat=lat,
        lon=lon,
        fix_time=parse_time(location.get("timestamp")),
        speed_kmh=None if speed is None or speed < 0 else float(speed) * 3.6,
        course=None if heading is None or heading < 0 else heading,
        altitude_m=_number(coords, "altitude"),
        accuracy_m=_number(coords, "accuracy"),
        battery=None if level is None or level < 0 else level * 100,
        alarms=["sos"] if extras.get("alarm") == "sos" else [],
        attributes={"charging": bool(battery.get("is_charging"))} if "is_charging" in battery else {},
    )


def query_params(query: str) -> dict[str, str]:
    """A query string or form body as parse_qsl(keep_blank_values=True) reads it, in a third
    of its time: only a part with an escape or a plus is unquoted."""
    params = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        params[name] = value
    return params


def _path_key(path: str) -> str | None:
    """The key of a server URL ending in /k/KEY."""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if len(parts) >= 2 and parts[-2] == "k" else None
