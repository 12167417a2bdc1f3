"""Live push over Socket.IO: positions coalesced into at most one batch per interval (0.2 s), alarms
at once. Each client joins rooms by its scope, so a unit-scoped user receives only his
units' devices."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import current_app
from flask_socketio import SocketIO, join_room
from socketio.packet import Packet

from geo.dispatch import tasks
from geo.infra import db
from geo.telemetry import fleet

log = logging.getLogger("lawgrid.live")
NAMESPACE = "/live"
DISTRICT_ROOM = "district"
RESEND_S = 30.0  # an unchanged device's row is pushed again this often (its last-seen time)
REPEAT_PUSH_S = 5.0  # a repeated alarm's new count is pushed at most this often


_SCALARS = frozenset({int, float, str, bool, type(None)})


def has_binary(data: Any) -> bool:
    """Whether an emit's data holds bytes (Socket.IO then sends them as attachments): the
    same answer as python-socketio's own check, which builds a list at every level and folds
    it with functools.reduce (1.3 ms for a 600-row positions batch, a fifth of the web
    process's CPU per batch); this one skips scalars and stops at the first bytes (0.2 ms)."""
    if isinstance(data, bytes | bytearray):
        return True
    if isinstance(data, list):
        items: Any = data
    elif isinstance(data, dict):
        items = data.values()
    else:
        return False
    for item in items:
        if type(item) not in _SCALARS and has_binary(item):
            return True
    return False


class LivePacket(Packet):
    """Socket.IO's packet, with the quicker binary check (SocketIO(serializer=LivePacket))."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return has_binary(data)


def unit_room(unit_id: int) -> str:
    return f"unit:{unit_id}"


def officer_room(officer_id: int) -> str:
    """A personal role's own room: his crew's positions and alarms while on a task together,
    and his tasks' changes (never his unit's)."""
    return f"officer:{officer_id}"


CREW_REFRESH_S = 5.0  # who is on a task with whom, re-read this often (and at once on a task change)


class LivePush:
    def __init__(self, socketio: SocketIO, sessions, interval_s: float = 0.2):
        self.socketio = socketio
        self.sessions = sessions
        self.interval_s = interval_s
        self._pending: dict[int, list] = {}
        self._lock = threading.Lock()
        self._units: dict[int, int] = {}
        self._units_loaded = 0.0
        self._crews: dict[int, frozenset[int]] = {}
        self._crews_loaded = -CREW_REFRESH_S
        self._stop = threading.Event()
        self._wake = threading.Event()  # set when something waits to be pushed
        self._thread: threading.Thread | None = None
        self.batches_sent = 0
        self._repeat_pushed: dict[int, float] = {}
        self._sent: dict[int, tuple[tuple, float]] = {}  # device -> (what the map shows, when sent)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="live-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # Called from the ingest thread after each commit ----------------------------------
    def on_commit(self, result) -> None:
        with self._lock:
            for row in result.latest:
                # [device id, lat, lon, state, recording, sos, fix time]
                self._pending[row["device_id"]] = [
                    row["device_id"],
                    round(row["lat"], 6),
                    round(row["lon"], 6),
                    row["state"],
                    row["recording"],
                    "sos" in row["alarms"],
                    row["fix_time"],
                ]
        for alarm in result.alarms:
            self.emit_scoped("alarm", alarm, alarm.get("device_id"))
        now = time.monotonic()
        for alarm in result.repeated:
            # A live alarm reported again: its row's count changes. At most one such push per
            # alarm every REPEAT_PUSH_S, however often the device repeats its flag.
            if now - self._repeat_pushed.get(alarm["id"], -REPEAT_PUSH_S) >= REPEAT_PUSH_S:
                self._repeat_pushed[alarm["id"]] = now
                self.emit_scoped("alarm", alarm, alarm.get("device_id"))
        if len(self._repeat_pushed) > 10_000:
            self._repeat_pushed = {k: v for k, v in self._repeat_pushed.items() if now - v < REPEAT_PUSH_S}
        self._wake.set()

    def on_states(self, changed: list[dict]) -> None:
        with self._lock:
            for row in changed:
                self._pending[row["device_id"]] = [
                    row["device_id"],
                    round(row["lat"], 6),
                    round(row["lon"], 6),
                    row["state"],
                    None,
                    False,
                    None,
                ]
        self._wake.set()

    def emit_scoped(self, event: str, payload, device_id: int | None) -> None:
        self.socketio.emit(event, payload, to=DISTRICT_ROOM, namespace=NAMESPACE)
        unit = self._unit_of(device_id) if device_id is not None else None
        if unit is not None:
            self.socketio.emit(event, payload, to=unit_room(unit), namespace=NAMESPACE)
        crew = self._crew_of(device_id) if device_id is not None else frozenset()
        if crew:
            self.socketio.emit(event, payload, to=[officer_room(o) for o in sorted(crew)], namespace=NAMESPACE)

    def emit_inspection(self, view: dict, units: set[int]) -> None:
        """A task changed: tell the district and every unit that could act on it."""
        payload = {
            k: view.get(k)
            for k in ("id", "status", "result", "unit_id", "target_id", "target_name", "lon", "lat", "due_at")
        }
        payload["officers"] = [o["id"] for o in view.get("officers") or []]
        self.socketio.emit("inspection", payload, to=DISTRICT_ROOM, namespace=NAMESPACE)
        for unit in units:
            self.socketio.emit("inspection", payload, to=unit_room(unit), namespace=NAMESPACE)
        if payload["officers"]:
            self.socketio.emit(
                "inspection", payload, to=[officer_room(o) for o in payload["officers"]], namespace=NAMESPACE
            )
        self._crews_loaded = -CREW_REFRESH_S  # crews may have changed: re-read before the next push

    def on_arrivals(self, task_ids: list[int]) -> None:
        """Called from the ingest thread when telemetry puts crews on site."""
        for task_id in task_ids:
            with db.session_scope(self.sessions) as s:
                view, units = tasks.task_view(s, task_id), tasks.task_units(s, task_id)
            self.emit_inspection(view, units)

    def emit_warnings(self, raised: list[dict[str, Any]]) -> None:
        by_unit: dict[int, list] = {}
        for w in raised:
            by_unit.setdefault(w.get("unit_id") or 0, []).append(w)
        self.socketio.emit("case_warning", raised, to=DISTRICT_ROOM, namespace=NAMESPACE)
        for unit, rows in by_unit.items():
            if unit:
                self.socketio.emit("case_warning", rows, to=unit_room(unit), namespace=NAMESPACE)

    def _unit_of(self, device_id: int) -> int | None:
        if device_id not in self._units or time.monotonic() - self._units_loaded > 300:
            with db.session_scope(self.sessions) as s:
                self._units = fleet.device_units(s)
            self._units_loaded = time.monotonic()
        return self._units.get(device_id)

    def _crew_of(self, device_id: int) -> frozenset[int]:
        """The officers who see this device live besides its unit (re-read every CREW_REFRESH_S;
        a failed read keeps the last one: a push never waits on it, nor fails for it)."""
        if time.monotonic() - self._crews_loaded > CREW_REFRESH_S:
            self._crews_loaded = time.monotonic()
            try:
                with db.session_scope(self.sessions) as s:
                    self._crews = fleet.crew_audience(s)
            except Exception:
                log.warning("live push: the crews could not be read; the last ones stand", exc_info=True)
        return self._crews.get(device_id, frozenset())

    def _changed(self, rows: list[list]) -> list[list]:
        """Only what the map would draw differently: a device that moved or changed state,
        recording or SOS; one that did not is sent again only every RESEND_S (its last-seen
        time)."""
        now, out = time.monotonic(), []
        for row in rows:
            shown = (row[1], row[2], row[3], row[4], row[5])
            last = self._sent.get(row[0])
            if last is None or last[0] != shown or now - last[1] >= RESEND_S:
                self._sent[row[0]] = (shown, now)
                out.append(row)
        return out

    def _run(self) -> None:
        """Leading edge, then coalesce: the first positions after a quiet spell go at once;
        what follows within interval_s waits for the next batch (at most one per interval)."""
        last = -self.interval_s
        while not self._stop.is_set():
            if not self._wake.wait(1.0):
                continue
            hold = last + self.interval_s - time.monotonic()
            if hold > 0 and self._stop.wait(hold):
                break
            with self._lock:
                self._wake.clear()
                rows, self._pending = self._changed(list(self._pending.values())), {}
            if not rows:
                continue
            last = time.monotonic()
            try:
                self.socketio.emit("positions", rows, to=DISTRICT_ROOM, namespace=NAMESPACE)
                by_unit: dict[int, list] = {}
                for row in rows:
                    unit = self._unit_of(row[0])
                    if unit is not None:
                        by_unit.setdefault(unit, []).append(row)
                for unit, unit_rows in by_unit.items():
                    self.socketio.emit("positions", unit_rows, to=unit_room(unit), namespace=NAMESPACE)
                by_crew: dict[frozenset[int], list] = {}
                for row in rows:
                    crew = self._crew_of(row[0])
                    if crew:
                        by_crew.setdefault(crew, []).append(row)
                for crew, crew_rows in by_crew.items():  # an officer sees his crew, while on a task together
                    rooms = [officer_room(o) for o in sorted(crew)]
                    self.socketio.emit("positions", crew_rows, to=rooms, namespace=NAMESPACE)
                self.batches_sent += 1
            except Exception:
                log.exception("live push failed")


class _SweepNotifier:
    """The sweep tells only of warnings (it moves no task and no alarm)."""

    def __init__(self, push: LivePush) -> None:
        self.push = push

    def task_changed(self, view: dict[str, Any], units: Any) -> None:
        return None

    def texts_queued(self, message_ids: list[int]) -> set[int]:
        return set()

    def warnings_raised(self, raised: list[dict[str, Any]]) -> None:
        self.push.emit_warnings(raised)

    def alarm_changed(self, alarm: dict[str, Any]) -> None:
        return None


class CaseSweep:
    """Judges every case clock every interval (and at start), pushing what it raised. Several
    web processes may each run one: the upsert changes a row once, so each warning is pushed
    by the process that raised it."""

    def __init__(self, push: LivePush, interval_s: float):
        self.push, self.interval_s = push, interval_s
        self._stop = threading.Event()
        self.last: dict[str, Any] = {}

    def start(self) -> None:
        threading.Thread(target=self._run, name="case-sweep", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> list[dict[str, Any]]:
        from services import cases as case_uses
        from services.context import Context, Sessions

        started = time.monotonic()
        raised = case_uses.sweep_clocks(Context(Sessions(self.push.sessions), _SweepNotifier(self.push), "sweep"))
        self.last = {"raised": len(raised), "seconds": round(time.monotonic() - started, 3)}
        return raised

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.warning("the case warning sweep failed", exc_info=True)
            self._stop.wait(self.interval_s)


def origin_check(public_origins: list[str]) -> Any:
    """Socket.IO's Origin check: a browser may open the live socket only from this site (the
    Host it asked for) or a configured public origin; a socket from another origin carrying
    the operator's cookie is refused at the handshake. Clients that send no Origin (device
    gateways, bots) still need a session or a token to connect."""
    allowed = {o.rstrip("/") for o in public_origins}

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None:
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin.rstrip("/") in allowed | {own}

    return check


def install(socketio: SocketIO) -> None:
    """Socket.IO handlers: only logged-in users connect, and they join their scope's rooms."""
    from dashboard.auth import scope_from_request

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth=None):
        scope = scope_from_request(auth.get("token") if isinstance(auth, dict) else None)
        if scope is None:
            raise ConnectionRefusedError("log in first")
        if scope.personal:  # his own crew's, never his unit's (geo.access.accounts.PERSONAL_ROLES)
            if scope.officer_id is not None:
                join_room(officer_room(scope.officer_id))
        elif scope.district_wide:
            join_room(DISTRICT_ROOM)
        else:
            for unit in scope.unit_ids:
                join_room(unit_room(unit))
        current_app.logger.debug("live: %s connected", scope.username)
