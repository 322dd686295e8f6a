"""Getting an asynchronous Dask client from what the caller passed as ``dask``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
from distributed import Client, LocalCluster

__all__ = ["DaskTarget", "open_cluster"]

#: A ``distributed.Client``, a scheduler address (``"tcp://host:8786"``) or a number of
#: local worker processes to start.
DaskTarget = Client | str | int

#: Seconds to wait for the first worker of a cluster given by address.
WORKER_TIMEOUT = 60.0


def _same_loop(client: Client) -> bool:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    loop: Any = getattr(client.loop, "asyncio_loop", None)
    return bool(client.asynchronous) and loop is running


@asynccontextmanager
async def open_cluster(dask: DaskTarget) -> AsyncIterator[Client]:
    """Yield an asynchronous client on the running loop for ``dask``.

    An int starts a ``LocalCluster`` of that many single-threaded worker processes (shut
    down afterwards); an address connects to an existing scheduler; a client on the
    running loop is used as is, any other client through a new connection to its scheduler.
    Clusters and clients the caller passed are never closed.
    """
    if isinstance(dask, bool) or not isinstance(dask, Client | str | int):
        raise TypeError(
            "dask must be a distributed.Client, a scheduler address or a number of "
            f"local worker processes, got {type(dask).__name__}"
        )
    if isinstance(dask, int) and dask < 1:
        raise ValueError(f"dask (local worker processes) must be >= 1, got {dask}")
    if isinstance(dask, Client) and _same_loop(dask):
        yield dask
        return
    stack = AsyncExitStack()
    try:
        yield await _connect(dask, stack)
    finally:
        # Shielded: a cancelled migration still closes its connection and cluster.
        with anyio.CancelScope(shield=True):
            await stack.aclose()


async def _connect(dask: Client | str | int, stack: AsyncExitStack) -> Client:
    if isinstance(dask, int):
        cluster = LocalCluster(
            n_workers=dask,
            processes=True,
            threads_per_worker=1,
            asynchronous=True,
            dashboard_address=":0",
        )
        await stack.enter_async_context(cluster)
        client: Client = await stack.enter_async_context(Client(cluster, asynchronous=True))
        return client
    address = dask if isinstance(dask, str) else getattr(dask.scheduler, "address", None)
    if not address:
        raise ValueError("the distributed.Client passed as dask is not connected to a scheduler")
    client = await stack.enter_async_context(Client(address, asynchronous=True))
    wait_for_workers: Any = client.wait_for_workers  # typed sync; a coroutine here
    await wait_for_workers(1, timeout=WORKER_TIMEOUT)
    return client
