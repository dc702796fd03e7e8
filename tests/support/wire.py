"""A loopback TCP relay that counts round trips: what a client sends before it waits for the server.

:class:`RoundTripRelay` listens on a free loopback port and forwards every connection to the real server.
A round trip is counted each time a client sends after the server last spoke on that connection (or first),
so several messages written together (asyncpg's Bind/Execute/Sync) count once, and a statement that is
prepared before it runs counts twice, as the network sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class RoundTripRelay:
    """Forwards connections to ``host:port`` and counts the clients' round trips."""

    def __init__(self, host: str, port: int) -> None:
        """Relay to the server at ``host:port``."""
        self._target = (host, port)
        self.round_trips = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The loopback port clients connect to."""
        if self._server is None:
            raise RuntimeError("the relay is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._target)
        client_turn = [True]  # True once the server has answered: the client's next send is a new trip

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, from_client: bool
        ) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    if from_client and client_turn[0]:
                        self.round_trips += 1
                    client_turn[0] = not from_client
                    sink.write(data)
                    await sink.drain()
            sink.close()

        tasks = [
            asyncio.create_task(pipe(reader, server_writer, from_client=True)),
            asyncio.create_task(pipe(server_reader, writer, from_client=False)),
        ]
        self._pipes.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pipes.difference_update(tasks)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RoundTripRelay]:
        """Listen while inside the block."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        try:
            yield self
        finally:
            self._server.close()
            for task in tuple(self._pipes):
                task.cancel()
            await asyncio.gather(*self._pipes, return_exceptions=True)
            await self._server.wait_closed()
