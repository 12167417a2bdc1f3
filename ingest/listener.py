"""A TCP listener on asyncio: the common start/stop of the device protocol servers."""

from __future__ import annotations

import asyncio

from ingest.context import IngestContext


class TcpListener:
    def __init__(self, ctx: IngestContext, host: str, port: int):
        self.ctx, self.host, self.port = ctx, host, port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen; port 0 picks a free port, readable from .port afterwards."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=1 << 16)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
