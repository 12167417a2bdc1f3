"""What every device listener shares: the pipeline, the validator, device lookups and the
counters of what was accepted and refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from geo.infra import db
from geo.telemetry import devices
from geo.telemetry.positions import Fix
from ingest.jt808 import frames
from ingest.pipeline import Pipeline
from ingest.validate import Validator

log = logging.getLogger("lawgrid.ingest")


NEGATIVE_TTL_S = 30.0  # an unknown device is asked about again after this long
CLAIM_WAIT_S = 0.02  # new authentication codes asked for within this long are stored together


@dataclass
class IngestContext:
    sessions: sessionmaker[Session]
    pipeline: Pipeline
    validator: Validator = field(default_factory=Validator)
    counters: Counter = field(default_factory=Counter)
    _devices: dict[tuple[str, str], dict] = field(default_factory=dict)
    _unknown: dict[tuple[str, str], float] = field(default_factory=dict)
    heartbeats: dict[int, dt.datetime] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)  # devices with a fix stored since the last sweep
    _logged: set[tuple[int, str]] = field(default_factory=set)
    # Logins wait on these threads, never on the pipeline's writer (nor it on them).
    _claims: dict[int, list[asyncio.Future]] = field(default_factory=dict)
    _claim_timer: asyncio.TimerHandle | None = None
    _lookups: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest-lookup")
    )
    snapshot_path: Path | None = None  # the registry as last read, for a start during an outage
    from_snapshot: bool = False  # the cache came from the snapshot: read the registry again when it can

    @staticmethod
    def key(protocol: str, identifier: str) -> tuple[str, str]:
        return protocol, frames.terminal_key(identifier) if protocol == "jt808" else identifier

    def preload(self) -> int:
        """Every registered device into the cache, in one query (at start): a reconnect storm
        after a restart then costs no database round trip per login. The registry read is kept
        as a snapshot (its owner's only: it holds the devices' secrets) for a start while the
        database is down."""
        with db.session_scope(self.sessions) as s:
            rows = devices.all_devices(s)
        if self.snapshot_path is not None:
            self._write_snapshot(rows)
        self._fill(rows)
        self.from_snapshot = False
        return len(rows)

    def preload_snapshot(self) -> int:
        """The devices of the last registry snapshot (a start while the database is down: known
        devices are served and their fixes spooled); 0 if there is none."""
        if self.snapshot_path is None or not self.snapshot_path.exists():
            return 0
        try:
            rows = json.loads(self.snapshot_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("registry snapshot %s unreadable: %s", self.snapshot_path, exc)
            return 0
        self._fill(rows)
        self.from_snapshot = True
        self.counters["ingest:registry_from_snapshot"] += 1
        return len(rows)

    def _fill(self, rows: list[dict]) -> None:
        for row in rows:
            row = dict(row)
            self._devices[(row["protocol"], row.pop("key"))] = row

    def _write_snapshot(self, rows: list[dict]) -> None:
        assert self.snapshot_path is not None
        self.snapshot_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.snapshot_path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(rows, out, ensure_ascii=False, default=str)
        os.replace(tmp, self.snapshot_path)

    def cached_device(self, protocol: str, identifier: str) -> dict | None:
        """The registered device if it is cached (the hot path, on the loop); None otherwise:
        then ask device()."""
        return self._devices.get(self.key(protocol, identifier))

    async def device(self, protocol: str, identifier: str) -> dict | None:
        """The registered device, or None. Known devices are answered from the cache; an
        unknown one is looked up (indexed) at most once per NEGATIVE_TTL_S."""
        key = self.key(protocol, identifier)
        found = self._devices.get(key)
        if found is not None:
            return found
        if self._unknown.get(key, 0.0) > time.monotonic():
            return None
        try:
            found = await self._off_loop(self._lookup, protocol, identifier)
        except Exception as exc:  # the database is down: a device the cache does not know waits for it
            self.counters["ingest:lookup_failed"] += 1
            log.debug("device %s:%s not looked up: %s", protocol, identifier, exc)
            return None
        if found:
            self._devices[key] = found
            self._unknown.pop(key, None)
        else:
            if len(self._unknown) > 100_000:  # a scan of random numbers must not grow this forever
                self._unknown.clear()
            self._unknown[key] = time.monotonic() + NEGATIVE_TTL_S
        return found

    async def _off_loop(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._lookups, fn, *args)

    def _lookup(self, protocol: str, identifier: str) -> dict | None:
        with db.session_scope(self.sessions) as s:
            return devices.device_by_identifier(s, protocol, identifier)

    def auth_matches(self, device: dict, code: str) -> bool:
        expected = device.get("auth_code")
        return bool(expected) and hmac.compare_digest(str(expected).encode(), code.encode())

    async def issue_auth_code(self, device: dict) -> str:
        """The device's code: the one it already has (no write: a login costs nothing), or a
        new one, stored once. New codes asked for within CLAIM_WAIT_S of each other are
        stored in one statement (thousands of new terminals on their first day)."""
        if device.get("auth_code"):
            return str(device["auth_code"])
        loop = asyncio.get_running_loop()
        waiting = self._claims.setdefault(device["id"], [])
        fut = loop.create_future()
        waiting.append(fut)
        if self._claim_timer is None:
            self._claim_timer = loop.call_later(CLAIM_WAIT_S, lambda: asyncio.ensure_future(self._claim_batch()))
        code: str = await fut
        device["auth_code"] = code
        return code

    async def _claim_batch(self) -> None:
        claims, self._claims, self._claim_timer = self._claims, {}, None
        try:
            codes = await self._off_loop(self._claim_codes, {d: secrets.token_hex(4).upper() for d in claims})
        except Exception as exc:  # the database is down: these logins fail and are tried again
            for futures in claims.values():
                for fut in futures:
                    if not fut.done():
                        fut.set_exception(exc)
            return
        for device_id, futures in claims.items():
            for fut in futures:
                if fut.done():
                    continue
                if device_id in codes:
                    fut.set_result(codes[device_id])
                else:
                    fut.set_exception(LookupError(f"device {device_id} is no longer registered"))

    async def revoke_auth_code(self, device: dict) -> None:
        """Deregistration: the code stops working; the next registration issues another."""
        await self._off_loop(self._store_code, device["id"], None)
        device["auth_code"] = None

    def _claim_codes(self, offers: dict[int, str]) -> dict[int, str]:
        with db.session_scope(self.sessions) as s:
            return devices.claim_auth_codes(s, offers)

    def _store_code(self, device_id: int, code: str | None) -> None:
        with db.session_scope(self.sessions) as s:
            devices.set_auth_code(s, device_id, code)

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)

    def screen(self, fixes: list[Fix]) -> tuple[list[Fix], list[str]]:
        """Validate: (the good fixes, the reasons of the dropped ones), counted and logged
        once per reason per device."""
        now = dt.datetime.now(dt.UTC)
        good, reasons = [], []
        for fix in fixes:
            reason = self.validator.check(fix, now)
            if reason:
                self.counters[f"rejected:{reason}"] += 1
                reasons.append(reason)
                if (fix.device_id, reason) not in self._logged:  # once per reason per device
                    self._logged.add((fix.device_id, reason))
                    log.info(
                        "device %s: a fix was not stored (%s); further ones are only counted", fix.device_id, reason
                    )
            else:
                good.append(fix)
        return good, reasons

    def take_moved(self) -> list[int]:
        moved, self.moved = self.moved, set()
        return list(moved)

    def _settled(self, good: list[Fix], refused: list[str]) -> list[str]:
        if refused:  # the database refused them (kept in the pipeline's quarantine for review)
            self.counters["refused:quarantined"] += len(refused)
        self.counters["accepted"] += len(good) - len(refused)
        self.moved.update(f.device_id for f in good)
        return ["quarantined" for _ in refused]

    async def accept(self, fixes: list[Fix]) -> list[str]:
        """Validate, hand the good fixes to the pipeline and return once they are durable.
        Returns the reasons of the fixes that were dropped."""
        good, reasons = self.screen(fixes)
        refused = await self.pipeline.submit(good)
        return reasons + self._settled(good, refused)

    def accept_then(self, fixes: list[Fix], then: Callable[[list[str] | BaseException], None]) -> None:
        """accept() without a task per call, for the hottest path (a JT/T 808 frame): `then`
        runs on the loop once the fixes are durable, with the dropped fixes' reasons, or with
        the exception if the batch could be neither stored nor spooled."""
        good, reasons = self.screen(fixes)

        def done(outcome: list[str] | BaseException) -> None:
            then(outcome if isinstance(outcome, BaseException) else reasons + self._settled(good, outcome))

        if good:
            self.pipeline.enqueue(good, done)
        else:
            then(reasons)

    def heard(self, device_id: int) -> None:
        """A heartbeat (no position): the next sweep marks the device seen, in one statement
        for every device heard since the last."""
        self.heartbeats[device_id] = dt.datetime.now(dt.UTC)

    def take_heartbeats(self) -> dict[int, dt.datetime]:
        heard, self.heartbeats = self.heartbeats, {}
        return heard

    def refuse(self, reason: str) -> None:
        self.counters[f"refused:{reason}"] += 1
