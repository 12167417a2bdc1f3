"""`lawgrid ingest` on several cores: N listener processes on the same ports (SO_REUSEPORT,
the kernel spreads the devices' connections over them), started, watched and stopped by
this one, as gunicorn does for web workers.

Each listener is `lawgrid ingest` itself with LAWGRID_INGEST_WORKER set: its own spool file,
MQTT in the first only (the broker keeps one session per client id), no migrations (this
process ran them). A listener that dies is started again, after a pause that grows while it
keeps dying; SIGTERM or SIGINT stops them all."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger("lawgrid.ingest")

STOP_GRACE_S = 30.0  # a listener not gone this long after SIGTERM is killed
START_TIMEOUT_S = 120.0
RESTART_PAUSE_S = (1.0, 30.0)  # first and longest pause before starting a dead listener again
HEALTHY_AFTER_S = 60.0  # a listener up this long is well again: its next restart pauses 1 s


def die_with_parent() -> None:
    """In a child, before exec: the kernel sends it SIGTERM when its parent ends, however the
    parent ends (Linux; elsewhere nothing)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def auto_processes(cpu_count: int | None) -> int:
    """0 in the settings: one listener per core, at most four (a district's 10,000 fixes a
    second need about two; each listener holds its own database connections)."""
    return max(1, min(cpu_count or 1, 4))


@dataclass
class Listener:
    index: int
    proc: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)
    pause_s: float = RESTART_PAUSE_S[0]


class Supervisor:
    def __init__(self, processes: int, env: dict[str, str] | None = None, redis_url: str | None = None):
        self.processes, self.redis_url = processes, redis_url
        self.env = dict(os.environ if env is None else env)
        self.listeners: dict[int, Listener] = {}
        self.stopping = threading.Event()

    def _spawn(self, index: int) -> subprocess.Popen[str]:
        env = {
            **self.env,
            "LAWGRID_INGEST_WORKER": str(index),
            "LAWGRID_INGEST_PROCESSES": "1",
            "LAWGRID_INGEST_REUSE_PORT": "true",
        }
        return subprocess.Popen(
            [sys.executable, "-m", "lawgrid.cli", "ingest"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent,
        )

    def _await_listening(self, listener: Listener) -> str:
        """The listener's first line ("listening: ..."), then its output passed on as it
        comes. One that says something else, exits or is silent for START_TIMEOUT_S is
        stopped and reported."""
        proc, first = listener.proc, queue.Queue[str]()
        assert proc.stdout is not None
        out = proc.stdout

        def relay() -> None:
            first.put(out.readline())  # "" at once if it exited
            for rest in out:
                sys.stdout.write(rest)
                sys.stdout.flush()

        threading.Thread(target=relay, name=f"ingest-{listener.index}-out", daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                line = first.get(timeout=0.25)
                break
            except queue.Empty:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    line = ""
                    break
        if line.startswith("listening"):
            return line.strip()
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        raise RuntimeError(f"ingest listener {listener.index} did not start (exit code {code})")

    def start(self) -> str:
        """Every listener up and listening, or none (a listener that cannot start, say its
        port is taken without SO_REUSEPORT, stops the others)."""
        for index in range(self.processes):
            self.listeners[index] = Listener(index, self._spawn(index))
        try:
            lines = [self._await_listening(listener) for listener in self.listeners.values()]
        except Exception:
            self.stop()
            raise
        pids = " ".join(str(x.proc.pid) for x in self.listeners.values())
        return f"{lines[0]} ({self.processes} processes, pids {pids})"

    def watch_once(self, now: float) -> None:
        """Start again any listener that exited while we were not stopping."""
        for index, listener in list(self.listeners.items()):
            code = listener.proc.poll()
            if code is None or self.stopping.is_set():
                continue
            up = now - listener.started
            pause = RESTART_PAUSE_S[0] if up >= HEALTHY_AFTER_S else listener.pause_s
            log.error(
                "ingest listener %d (pid %d) exited with %s after %.0f s; starting it again in %.0f s",
                index,
                listener.proc.pid,
                code,
                up,
                pause,
            )
            self._forget(listener.proc.pid)
            if self.stopping.wait(pause):
                return
            fresh = Listener(index, self._spawn(index), pause_s=min(pause * 2, RESTART_PAUSE_S[1]))
            self.listeners[index] = fresh
            try:
                self._await_listening(fresh)
            except RuntimeError:
                log.exception("ingest listener %d did not come back", index)

    def _forget(self, pid: int) -> None:
        """Its counters out of the web's listing at once, not when they expire."""
        if self.redis_url:
            from ingest.wake import forget

            try:
                forget(self.redis_url, pid)
            except Exception as exc:  # they expire by themselves
                log.warning("could not remove listener %d's counters from Redis: %s", pid, exc)

    def stop(self) -> None:
        self.stopping.set()
        for listener in self.listeners.values():
            if listener.proc.poll() is None:
                listener.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for listener in self.listeners.values():
            try:
                listener.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                listener.proc.kill()
                listener.proc.wait()

    def run(self) -> int:
        """Start, print the listening line, watch until SIGTERM or SIGINT, stop."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            print(self.start(), flush=True)
        except RuntimeError as exc:
            print(f"lawgrid ingest: {exc}", file=sys.stderr)
            return 1
        while not self.stopping.wait(0.5):
            self.watch_once(time.monotonic())
        self.stop()
        return 0
