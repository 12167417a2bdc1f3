"""The outbox: messages LawGrid owes an outside platform (the payment platform, 信用中国, the
enterprise publicity system, a registry feed), written in the transaction of the act that owes
them and sent later by a relay, so an act never waits on another system and nothing is lost
while that system is down.

- `put` is idempotent on (topic, key): the same act retried, or a double click, owes one message.
- `claim` hands due messages to one relay at a time (FOR UPDATE SKIP LOCKED and a lease), so
  two relays never send the same message at once; a relay that dies loses only its lease.
- `delivered` records the other side's answer; `failed` schedules the next try with a growing
  pause (30 s doubling to an hour), and after MAX_ATTEMPTS gives up, keeping the row and the
  reason for a person to look at.

Adapters live above the core (services/), each behind a small interface with a named fake
for tests and the demo; this module knows nothing of any platform's format.

The JT/T 808 downlink keeps its own table (terminal_message, geo/telemetry/downlink.py): its
messages are claimed by whichever ingest process holds the terminal's connection, not by time."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.errors import InvalidInput

MAX_ATTEMPTS = 12
FIRST_PAUSE_S = 30
LONGEST_PAUSE_S = 3600
LEASE_S = 120  # how long a claimed message is the claimer's before another relay may take it


@dataclass(frozen=True)
class Message:
    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int


def put(session: Session, topic: str, key: str, payload: dict[str, Any], actor: str) -> int:
    """Owe a message (in the caller's transaction); the same topic and key again is the same
    message, whatever its payload. Returns its id."""
    if not key:
        raise InvalidInput("an outbox message needs its key (what makes it once)")
    row = session.execute(
        text(
            """INSERT INTO outbox (topic, key, payload, created_by) VALUES (:t, :k, CAST(:p AS jsonb), :a)
               ON CONFLICT (topic, key) DO NOTHING RETURNING id"""
        ),
        {"t": topic, "k": key, "p": json.dumps(payload, ensure_ascii=False, default=str), "a": actor},
    ).scalar()
    if row is None:
        row = session.execute(text("SELECT id FROM outbox WHERE topic = :t AND key = :k"), {"t": topic, "k": key})
        return int(row.scalar_one())
    return int(row)


def claim(session: Session, topic: str, limit: int = 50) -> list[Message]:
    """Take up to limit due messages of a topic, oldest first, for LEASE_S seconds."""
    rows = session.execute(
        text(
            """
        UPDATE outbox o SET claimed_until = now() + make_interval(secs => :lease), attempts = o.attempts + 1
        FROM (SELECT id FROM outbox
              WHERE topic = :t AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now()
                AND (claimed_until IS NULL OR claimed_until < now())
              ORDER BY next_attempt_at, id LIMIT :n FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
        RETURNING o.id, o.topic, o.key, o.payload, o.attempts
        """
        ),
        {"t": topic, "n": limit, "lease": LEASE_S},
    )
    return sorted((Message(int(r.id), r.topic, r.key, dict(r.payload), int(r.attempts)) for r in rows), key=_id)


def _id(message: Message) -> int:
    return message.id


def delivered(session: Session, message_id: int, answer: dict[str, Any] | None = None) -> None:
    session.execute(
        text(
            """UPDATE outbox SET delivered_at = now(), claimed_until = NULL, last_error = NULL,
                      answer = CAST(:a AS jsonb) WHERE id = :i"""
        ),
        {"i": message_id, "a": json.dumps(answer or {}, ensure_ascii=False, default=str)},
    )


def pause_after(attempts: int) -> dt.timedelta:
    """The wait before the next try: 30 s, 60 s, 120 s … at most an hour."""
    return dt.timedelta(seconds=min(LONGEST_PAUSE_S, FIRST_PAUSE_S * 2 ** max(0, attempts - 1)))


def failed(session: Session, message_id: int, error: str) -> bool:
    """A try failed: the next one is scheduled, or (after MAX_ATTEMPTS) the message is given up.
    Returns True while it will be tried again."""
    attempts = session.execute(text("SELECT attempts FROM outbox WHERE id = :i"), {"i": message_id}).scalar_one()
    give_up = attempts >= MAX_ATTEMPTS
    session.execute(
        text(
            """UPDATE outbox SET claimed_until = NULL, last_error = left(:e, 2000),
                      next_attempt_at = now() + make_interval(secs => :pause),
                      gave_up_at = CASE WHEN :give_up THEN now() END WHERE id = :i"""
        ),
        {"i": message_id, "e": error, "pause": pause_after(attempts).total_seconds(), "give_up": give_up},
    )
    return not give_up


def pending(session: Session, topic: str | None = None) -> dict[str, int]:
    """How many messages wait, failed for good, and were delivered, per state (for the health
    page and the supervisors)."""
    row = session.execute(
        text(
            """SELECT count(*) FILTER (WHERE delivered_at IS NULL AND gave_up_at IS NULL) AS waiting,
                      count(*) FILTER (WHERE gave_up_at IS NOT NULL) AS given_up,
                      count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered
               FROM outbox WHERE CAST(:t AS text) IS NULL OR topic = :t"""
        ),
        {"t": topic},
    ).one()
    return {"waiting": int(row.waiting), "given_up": int(row.given_up), "delivered": int(row.delivered)}
