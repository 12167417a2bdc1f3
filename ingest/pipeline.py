"""The telemetry pipeline: validated fixes are batched and written to PostGIS; a caller
is answered only once its fixes are durable (committed, or fsynced to the spool).

While PostGIS is unreachable, batches go to an append-only spool file (one JSON line per
batch); a replay task writes them back in order when the database returns. Replays are
idempotent (duplicates by device and fix time are dropped on insert), so a crash between
commit and spool truncation cannot store a fix twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from geo.telemetry.positions import Fix, WriteResult, write_fixes

log = logging.getLogger("lawgrid.ingest")

OnCommit = Callable[[WriteResult], None]
Done = Callable[[list[str] | BaseException], None]


class Spool:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = self._count_lines()  # kept from here on: the stats never read the file

    def _count_lines(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    def append(self, fixes: list[Fix]) -> None:
        line = json.dumps([f.to_json() for f in fixes], ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
            self._count += 1

    def pending(self) -> bool:
        """Cheap check for the hot path: anything waiting, without reading it."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def batches(self) -> list[list[Fix]]:
        if not self.path.exists():
            return []
        with self._lock, open(self.path, encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        out = []
        for line in lines:
            try:
                out.append([Fix.from_json(d) for d in json.loads(line)])
            except (ValueError, TypeError, KeyError):  # a torn last line from a crash mid-write
                log.warning("spool: skipping an unreadable line")
        return out

    def clear(self) -> None:
        with self._lock, open(self.path, "w", encoding="utf-8") as f:
            f.flush()
            os.fsync(f.fileno())
            self._count = 0

    def __len__(self) -> int:
        """Batches waiting: a counter, so /api/ingest/stats costs nothing on the event loop."""
        return self._count


class Quarantine:
    """Fixes the database refused (not for being down): one JSON line each, with the reason,
    kept for review; nothing else of their batch is lost."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def add(self, fix: Fix, reason: str) -> None:
        line = json.dumps({"reason": reason, "fix": fix.to_json()}, ensure_ascii=False, default=str) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock, open(self.path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


class Pipeline:
    def __init__(
        self,
        dsn: str,
        spool_path: Path,
        *,
        on_commit: OnCommit | None = None,
        batch_max: int = 5000,
        batch_wait_s: float = 0.05,
        retry_s: float = 1.0,
        live_max_age_s: int = 24 * 3600,
    ):
        self.dsn = dsn
        self.spool = Spool(spool_path)
        self.on_commit = on_commit
        self.batch_max = batch_max
        self.batch_wait_s = batch_wait_s
        self.retry_s = retry_s
        self.live_max_age_s = live_max_age_s
        self.stats: Counter = Counter()
        self.commit_ms: deque[float] = deque(maxlen=100_000)  # the latest latencies, bounded
        self.quarantine = Quarantine(spool_path.with_name(spool_path.stem + ".quarantine.jsonl"))
        self._queue: Any = None  # an asyncio.Queue, made on the pipeline's own loop
        self._conn: psycopg.Connection | None = None
        self._tasks: list[asyncio.Task] = []
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-writer")
        self._tasks = [asyncio.create_task(self._writer(), name="pipeline-writer")]
        if self.spool.pending():
            self.stats["spooled_at_start"] += 1

    async def stop(self) -> None:
        """Drain what is queued (to the database or the spool), then stop."""
        if self._queue is not None:
            await self._queue.put(None)
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- producers ------------------------------------------------------------------------
    async def submit(self, fixes: list[Fix]) -> list[str]:
        """Returns when the fixes are durable, with the reasons of those the database refused
        (quarantined, one reason each); the others are stored."""
        if not fixes:
            return []
        done = asyncio.get_running_loop().create_future()

        def settle(outcome: list[str] | BaseException) -> None:
            if done.done():
                return
            if isinstance(outcome, BaseException):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)

        self.enqueue(fixes, settle)
        refused: list[str] = await done
        return refused

    def enqueue(self, fixes: list[Fix], done: Done) -> None:
        """Queue fixes for the next batch; `done` is called on the loop once they are durable,
        with the reasons of those the database refused, or with the exception that kept the
        batch from both the database and the spool. No task and no thread per call."""
        self._queue.put_nowait((fixes, done, time.perf_counter()))

    # -- writer ---------------------------------------------------------------------------
    async def _writer(self) -> None:
        stopping = False
        while not stopping:
            if self.spool.pending():
                # Fixes wait in the spool: replay them as soon as the database answers, whether
                # or not any device is sending (a listener the devices left stays responsible).
                try:
                    item = await asyncio.wait_for(self._queue.get(), self.retry_s)
                except TimeoutError:
                    await self._in_writer(self._replay)
                    continue
            else:
                item = await self._queue.get()
            if item is None:
                stopping = True
                items = []
            else:
                items = [item]
                count = len(item[0])
                # What queued up during the last write goes now; only a lone item waits for
                # company (batch_wait_s), which keeps latency low under load.
                while count < self.batch_max and not self._queue.empty():
                    nxt = self._queue.get_nowait()
                    if nxt is None:
                        stopping = True
                        break
                    items.append(nxt)
                    count += len(nxt[0])
                deadline = time.perf_counter() + (self.batch_wait_s if len(items) == 1 else 0)
                while count < self.batch_max and not stopping:
                    timeout = deadline - time.perf_counter()
                    if timeout <= 0:
                        break
                    try:
                        nxt = await asyncio.wait_for(self._queue.get(), timeout)
                    except TimeoutError:
                        break
                    if nxt is None:
                        stopping = True
                        break
                    items.append(nxt)
                    count += len(nxt[0])
            if items:
                try:
                    refused = await self._in_writer(self._persist, [f for fixes, _, _ in items for f in fixes])
                except Exception as exc:  # the writer itself never stops: these callers hear why
                    log.exception("pipeline: a batch failed")
                    for _, done, _ in items:
                        self._tell(done, exc)
                    continue
                now = time.perf_counter()
                self.stats["batches"] += 1
                for fixes, done, t0 in items:
                    self.commit_ms.append((now - t0) * 1000)
                    self._tell(done, [refused[id(f)] for f in fixes if id(f) in refused] if refused else [])
            elif self.spool.pending():
                await self._in_writer(self._replay)

    async def _in_writer(self, fn, *args):
        """The database work runs on the pipeline's own thread (one connection, in order), so
        device logins on the shared executor never queue behind a batch, nor it behind them."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @staticmethod
    def _tell(done: Done, outcome: list[str] | BaseException) -> None:
        try:
            done(outcome)
        except Exception:  # one caller's callback must not keep the others from hearing
            log.exception("pipeline: a completion callback failed")

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, connect_timeout=3)
        return self._conn

    def _write(self, fixes: list[Fix]) -> WriteResult:
        conn = self._connection()
        try:
            result = write_fixes(conn, fixes, self.live_max_age_s)
            conn.commit()
        except psycopg.OperationalError:
            self._conn = None
            raise
        except Exception:
            conn.rollback()
            raise
        return result

    def _persist(self, fixes: list[Fix]) -> dict[int, str]:
        """Write to the database, or to the spool when it is down (keeping order). A batch the
        database refuses for any other reason is split until the offending fixes are found;
        they go to the quarantine. Returns {id(fix): reason} of the quarantined."""
        if self.spool.pending():
            self._replay()
        if not self.spool.pending():
            try:
                self._committed(self._write(fixes))
                return {}
            except psycopg.OperationalError as exc:
                log.warning("database unreachable (%s); spooling %d fixes", exc, len(fixes))
            except Exception as exc:
                return self._isolate(fixes, exc)
        self.spool.append(fixes)
        self.stats["spooled"] += len(fixes)
        return {}

    def _isolate(self, fixes: list[Fix], exc: Exception) -> dict[int, str]:
        if len(fixes) == 1:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
            self.quarantine.add(fixes[0], reason)
            self.stats["quarantined"] += 1
            if self.stats[f"quarantined:{type(exc).__name__}"] == 0:
                log.warning("pipeline: quarantined a fix of device %s (%s)", fixes[0].device_id, reason)
            self.stats[f"quarantined:{type(exc).__name__}"] += 1
            return {id(fixes[0]): reason}
        refused: dict[int, str] = {}
        middle = len(fixes) // 2
        for half in (fixes[:middle], fixes[middle:]):
            try:
                self._committed(self._write(half))
            except psycopg.OperationalError:
                self.spool.append(half)  # the database went away meanwhile: durable all the same
                self.stats["spooled"] += len(half)
            except Exception as error:
                refused |= self._isolate(half, error)
        return refused

    def _replay(self) -> None:
        batches = self.spool.batches()
        if not batches:
            return
        try:
            for fixes in batches:
                try:
                    self._committed(self._write(fixes))
                except psycopg.OperationalError:
                    raise
                except Exception as exc:  # a spooled fix the database now refuses: quarantined
                    self._isolate(fixes, exc)
                self.stats["replayed"] += len(fixes)
        except psycopg.OperationalError:
            return  # still down; everything stays in the spool, written again next time
        self.spool.clear()

    def _committed(self, result: WriteResult) -> None:
        self.stats["stored"] += result.stored
        self.stats["duplicates"] += result.duplicates
        self.stats["alarms"] += len(result.alarms)
        if self.on_commit is not None:
            try:
                self.on_commit(result)
            except Exception:  # a push failure must never lose or re-write data
                log.exception("on_commit hook failed")
