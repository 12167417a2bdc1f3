"""Ingest and web over Redis. Wake-ups: a web process that queues a text for a terminal (the
outbox in geo/downlink.py) publishes on one channel; every ingest process listening there
looks in the outbox, and the one holding the terminal's connection sends it. The outbox is
the record: a wake-up lost while Redis is away costs at most one sweep (five seconds).
Counters: each ingest process writes its listeners' counters under a key of its own every
sweep, kept STATS_TTL_S, so a web process can show every running listener's."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from geo.telemetry.downlink import CHANNEL

log = logging.getLogger("lawgrid.ingest")


class RedisWake:
    def __init__(self, url: str, on_wake: Callable[[], None]):
        self.url, self.on_wake = url, on_wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-wake", daemon=True)
        self._pubsub: redis.client.PubSub | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:  # closing a broken connection
                pass

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.url, socket_keepalive=True, health_check_interval=30)
                pubsub = self._pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                delay = 1.0
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self.on_wake()
            except Exception as exc:  # Redis away: the sweep still sends from the outbox
                if self._stop.is_set():
                    return
                log.warning("Redis wake-ups unavailable (%s); retrying in %.0f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)


def _client(url: str) -> redis.Redis:
    """A short-lived connection for one call (`with _client(url) as c:` closes it)."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def publish(url: str) -> None:
    """Tell every ingest process to look in the outbox (a web process queued a text)."""
    with _client(url) as client:
        client.publish(CHANNEL, "1")


STATS_PREFIX = "lawgrid:ingest:stats:"
STATS_TTL_S = 30  # a process not heard from this long is gone from the listing


def process_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


class StatsReporter:
    """One ingest process's counters, written to Redis (called off the event loop)."""

    def __init__(self, url: str):
        self.name = process_name(os.getpid())
        self.client = _client(url)

    def report(self, counters: dict[str, Any]) -> None:
        doc = {"process": self.name, "at": time.time(), "counters": counters}
        self.client.set(STATS_PREFIX + self.name, json.dumps(doc), ex=STATS_TTL_S)

    def close(self) -> None:
        try:
            self.client.delete(STATS_PREFIX + self.name)  # stopped: gone from the listing at once
        finally:
            self.client.close()


def read_stats(url: str) -> list[dict[str, Any]]:
    """Every live ingest process's latest counters, by process name."""
    with _client(url) as client:
        keys = sorted(client.scan_iter(match=STATS_PREFIX + "*", count=100))
        return [json.loads(raw) for raw in client.mget(keys) if raw is not None] if keys else []


def forget(url: str, pid: int) -> None:
    """A process that died without removing its counters (its supervisor says so)."""
    with _client(url) as client:
        client.delete(STATS_PREFIX + process_name(pid))
