"""The downlink outbox (table terminal_message): texts for JT/T 808 terminals, written by
whoever dispatches and sent by the ingest process that holds the terminal's connection, at
once or when the terminal next authenticates. A message survives either process restarting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "lawgrid:downlink"  # the Redis channel that wakes the ingest processes


def queue_texts(
    session: Session, phones: list[str], body: str, actor: str, task_id: int | None = None
) -> dict[int, str]:
    """One message per JT/T 808 terminal number; returns {message id: terminal number}."""
    if not phones:
        return {}
    rows = session.execute(
        text(
            """
        WITH m AS (
            INSERT INTO terminal_message (device_id, task_id, body, created_by)
            SELECT d.id, :task, :body, :actor FROM device d
            WHERE d.protocol = 'jt808' AND d.identifier = ANY(:phones)
            RETURNING id, device_id
        )
        SELECT m.id, d.identifier FROM m JOIN device d ON d.id = m.device_id
        """
        ),
        {"task": task_id, "body": body, "actor": actor, "phones": list(phones)},
    )
    return {message_id: phone for message_id, phone in rows}


MAX_AGE_HOURS = 24  # a text older than this is no longer news: it is not sent


def claim(session: Session, device_ids: list[int]) -> list[dict[str, Any]]:
    """Take the messages still worth sending to these devices, oldest first, marking them sent
    in the same statement: not sent yet, under a day old, and (for a task's message) the task
    still open with the device's officer on its crew. Two deliveries running at once (a wake-up
    and a login, or the sweep) each get their own messages, never the same one twice; what
    could not be sent after all goes back with `release`."""
    if not device_ids:
        return []
    rows = session.execute(
        text(
            """
        UPDATE terminal_message t SET sent_at = now()
        FROM (SELECT m.id FROM terminal_message m
              WHERE m.sent_at IS NULL AND m.device_id = ANY(:d)
                AND m.created_at > now() - make_interval(hours => :age)
                AND (m.task_id IS NULL OR EXISTS (
                      SELECT 1 FROM inspection i JOIN inspection_officer io ON io.inspection_id = i.id
                      JOIN device d ON d.officer_id = io.officer_id
                      WHERE i.id = m.task_id AND d.id = m.device_id
                        AND i.status IN ('assigned', 'accepted', 'en_route', 'on_site')))
              ORDER BY m.id FOR UPDATE SKIP LOCKED) c
        WHERE t.id = c.id AND t.sent_at IS NULL
        RETURNING t.id, t.device_id, t.body
        """
        ),
        {"d": list(device_ids), "age": MAX_AGE_HOURS},
    )
    return sorted((dict(r._mapping) for r in rows), key=lambda m: m["id"])


def release(session: Session, ids: list[int]) -> None:
    """Claimed messages that were not sent (the terminal went away meanwhile) wait again."""
    if ids:
        session.execute(text("UPDATE terminal_message SET sent_at = NULL WHERE id = ANY(:i)"), {"i": ids})
