"""A TCP listener on asyncio: the common start/stop of the device protocol servers, sized as
real servers are (a deep listen backlog, the open-file limit raised, several processes on one
port if asked), and an accept loop that backs off, logging once, when descriptors run out."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter

from ingest.context import IngestContext

log = logging.getLogger("lawgrid.ingest")

BACKLOG = 8192  # the kernel caps it at net.core.somaxconn
OUT_OF_DESCRIPTORS = "socket.accept() out of system resource"
LOG_EVERY_S = 60.0


def raise_open_file_limit() -> tuple[int, int]:
    """Raise this process's soft limit on open files to the hard limit, as servers do: each
    connected terminal holds one. Returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft, soft
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class AcceptGuard:
    """The loop's exception handler while listeners run. When descriptors run out, asyncio
    stops accepting for a second and retries (it never spins); this counts each time and
    logs it once a minute, not once per attempt. Everything else goes to the previous handler."""

    def __init__(self, ctx: IngestContext, loop: asyncio.AbstractEventLoop):
        self.ctx, self.loop = ctx, loop
        self.previous = loop.get_exception_handler()
        self.logged_at = -LOG_EVERY_S

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if context.get("message") == OUT_OF_DESCRIPTORS:
            self.ctx.counters["refused:accept:out_of_descriptors"] += 1
            now = time.monotonic()
            if now - self.logged_at >= LOG_EVERY_S:
                self.logged_at = now
                soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
                log.error(
                    "out of file descriptors (limit %d): not accepting connections for a second at a time; "
                    "raise the hard limit (ulimit -Hn, LimitNOFILE=) for more terminals",
                    soft,
                )
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)

    def install(self) -> None:
        self.loop.set_exception_handler(self)


class TcpListener:
    protocol = "tcp"  # the counters' prefix

    def __init__(self, ctx: IngestContext, host: str, port: int, *, reuse_port: bool = False, max_per_address: int = 0):
        self.ctx, self.host, self.port = ctx, host, port
        self.reuse_port = reuse_port  # several ingest processes on one port, the kernel spreading them
        self.max_per_address = max_per_address  # 0: no limit
        self.per_address: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._watchdog: asyncio.Task | None = None

    def admit(self, writer: asyncio.StreamWriter | asyncio.BaseTransport) -> str | None:
        """The peer's address if it may hold one more connection; None (refused, counted, the
        connection closed) if it already holds max_per_address."""
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        if self.max_per_address and self.per_address[address] >= self.max_per_address:
            self.ctx.refuse(f"{self.protocol}:address_limit")
            writer.close()
            return None
        self.per_address[address] += 1
        return address

    def release(self, address: str) -> None:
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]

    async def start(self) -> None:
        """Listen; port 0 picks a free port, readable from .port afterwards. With timeouts,
        one watchdog task calls expire() every watch_step_s (no timer per read)."""
        self._server = await self._listen()
        self.port = self._server.sockets[0].getsockname()[1]
        self._watchdog = asyncio.create_task(self._watch())

    async def _listen(self) -> asyncio.Server:
        """One coroutine per connection (_serve) on asyncio streams."""
        return await asyncio.start_server(
            self._serve,
            self.host,
            self.port,
            limit=1 << 16,
            backlog=BACKLOG,
            reuse_port=self.reuse_port or None,
        )

    async def stop(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_step_s)
            self.expire(time.monotonic())

    @property
    def watch_step_s(self) -> float:
        return 60.0

    def expire(self, now: float) -> None:
        """Close the connections whose time is up (a listener with timeouts overrides this)."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
