"""What every device listener shares: the pipeline, the validator, device lookups and the
counters of what was accepted and refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from geo import db, telemetry
from geo.telemetry import Fix
from ingest.pipeline import Pipeline
from ingest.validate import Validator

log = logging.getLogger("lawgrid.ingest")


@dataclass
class IngestContext:
    sessions: sessionmaker[Session]
    pipeline: Pipeline
    validator: Validator = field(default_factory=Validator)
    counters: Counter = field(default_factory=Counter)
    _devices: dict[tuple[str, str], dict] = field(default_factory=dict)
    heartbeats: dict[int, dt.datetime] = field(default_factory=dict)
    _logged: set[tuple[int, str]] = field(default_factory=set)

    async def device(self, protocol: str, identifier: str) -> dict | None:
        """The registered device, or None; positive answers are cached."""
        key = (protocol, identifier.lstrip("0") if protocol == "jt808" else identifier)
        if key in self._devices:
            return self._devices[key]
        found = await asyncio.to_thread(self._lookup, protocol, identifier)
        if found:
            self._devices[key] = found
        return found

    def _lookup(self, protocol: str, identifier: str) -> dict | None:
        with db.session_scope(self.sessions) as s:
            return telemetry.device_by_identifier(s, protocol, identifier)

    async def issue_auth_code(self, device: dict) -> str:
        code = secrets.token_hex(4).upper()
        await asyncio.to_thread(self._store_code, device["id"], code)
        device["auth_code"] = code
        return code

    async def revoke_auth_code(self, device: dict) -> None:
        await asyncio.to_thread(self._store_code, device["id"], None)
        device["auth_code"] = None

    def _store_code(self, device_id: int, code: str | None) -> None:
        with db.session_scope(self.sessions) as s:
            telemetry.set_auth_code(s, device_id, code)

    async def accept(self, fixes: list[Fix]) -> list[str]:
        """Validate, hand the good fixes to the pipeline and return once they are durable.
        Returns the reasons of the fixes that were dropped."""
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
        refused = await self.pipeline.submit(good)
        if refused:  # the database refused them (kept in the pipeline's quarantine for review)
            self.counters["refused:quarantined"] += len(refused)
            reasons.extend("quarantined" for _ in refused)
        self.counters["accepted"] += len(good) - len(refused)
        return reasons

    def heard(self, device_id: int) -> None:
        """A heartbeat (no position): the next sweep marks the device seen, in one statement
        for every device heard since the last."""
        self.heartbeats[device_id] = dt.datetime.now(dt.UTC)

    def take_heartbeats(self) -> dict[int, dt.datetime]:
        heard, self.heartbeats = self.heartbeats, {}
        return heard

    def refuse(self, reason: str) -> None:
        self.counters[f"refused:{reason}"] += 1
