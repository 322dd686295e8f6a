"""One ``IntralinksClient`` per worker process (and event loop), shared by its shards.

Clients are cached by the credentials' fingerprint: a worker that runs many shards of a
migration fetches one token and keeps one connection pool (and one rate controller, so
its pacing carries over from shard to shard). :func:`release` closes the idle clients of
a finished run; :class:`ClientCachePlugin` closes the idle ones when the worker stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from intralinks_async.distributed.credentials import Credentials

__all__ = ["PLUGIN_NAME", "ClientCachePlugin", "cached_client", "release"]

PLUGIN_NAME = "intralinks-async-client-cache"


@dataclass(slots=True)
class _Entry:
    client: Any
    users: int = 0


_CLIENTS: dict[tuple[str, int], _Entry] = {}
_LOCK: dict[int, asyncio.Lock] = {}


def _loop_id() -> int:
    return id(asyncio.get_running_loop())


@asynccontextmanager
async def cached_client(credentials: Credentials) -> AsyncIterator[Any]:
    """The worker's open client for ``credentials`` (created on first use)."""
    key = (credentials.fingerprint, _loop_id())
    lock = _LOCK.setdefault(key[1], asyncio.Lock())
    async with lock:
        entry = _CLIENTS.get(key)
        if entry is None:
            client = credentials.client()
            await client.__aenter__()
            entry = _CLIENTS[key] = _Entry(client)
        entry.users += 1
    try:
        yield entry.client
    finally:
        entry.users -= 1


async def release(fingerprint: str | None = None) -> int:
    """Close this process's idle clients (of ``fingerprint`` only, if given); returns how many."""
    loop = _loop_id()
    closed = 0
    for key, entry in list(_CLIENTS.items()):
        if key[1] != loop or entry.users or (fingerprint and key[0] != fingerprint):
            continue
        del _CLIENTS[key]
        await entry.client.aclose()
        closed += 1
    return closed


class ClientCachePlugin(WorkerPlugin):
    """Closes the worker's idle cached clients when the worker shuts down."""

    name = PLUGIN_NAME

    async def teardown(self, worker: Any) -> None:
        """Close idle clients (a run still using one keeps it)."""
        await release()
