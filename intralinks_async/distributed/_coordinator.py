"""Submitting shards to Dask and collecting their results as they complete.

One task per shard, under a key of our own (``intralinks-shard-<n>-<uuid>``: no user
data, no secret). At most ``max_in_flight`` shards are submitted at once, so the
coordinator holds only those in memory however big the migration. A shard whose worker
died is re-run by Dask itself; when Dask gives up on it (``KilledWorker``, after
``distributed.scheduler.allowed-failures`` deaths) it is submitted again under a new
key, a few times, and then every file still without a result is reported as failed
(:class:`ShardLostError`): a rerun with the journal picks them up.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio
from distributed import Client
from distributed.scheduler import KilledWorker

from intralinks_async.distributed._shards import FileResult, ShardResult
from intralinks_async.distributed.errors import ShardLostError
from intralinks_async.errors import redact_text

__all__ = ["ShardRunner", "shard_key"]

#: Submissions of one shard after Dask gave up on it (each already re-ran it on deaths).
RESUBMISSIONS = 2


def shard_key(number: int) -> str:
    """A fresh task key for shard ``number``."""
    return f"intralinks-shard-{number}-{uuid.uuid4().hex}"


class ShardRunner:
    """Runs shards on the cluster; ``on_result`` gets each shard's result on the event loop."""

    def __init__(
        self,
        client: Client,
        task: Callable[[Any], Awaitable[ShardResult]],
        on_result: Callable[[Any, ShardResult], Awaitable[None]],
        *,
        max_in_flight: int,
    ) -> None:
        self.client = client
        self.task = task
        self.on_result = on_result
        self.aborted: str | None = None
        self._limiter = anyio.CapacityLimiter(max(1, max_in_flight))
        self._futures: dict[int, Any] = {}
        self._group: Any = None

    async def __aenter__(self) -> ShardRunner:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            if exc is not None:  # stopped (Ctrl-C, an error): nothing more runs for us
                with anyio.CancelScope(shield=True):
                    await self._cancel_all()
            return bool(await self._group.__aexit__(exc_type, exc, tb))
        finally:
            if self._futures:
                with anyio.CancelScope(shield=True):
                    await self._cancel_all()

    async def submit(self, shard: Any) -> None:
        """Submit ``shard`` (waits while ``max_in_flight`` shards are running)."""
        token = object()
        await self._limiter.acquire_on_behalf_of(token)
        self._group.start_soon(self._watch, shard, token)

    def stop(self, reason: str) -> None:
        """Submit no more shards (a fatal error); those running end by themselves.

        Each running shard stops at its first file that meets the same error and
        returns the results of the files it finished, so the report and the journal
        lose nothing.
        """
        if self.aborted is None:
            self.aborted = reason

    async def _cancel_all(self) -> None:
        futures = list(self._futures.values())
        if futures:
            await self.client.cancel(futures)

    async def _watch(self, shard: Any, token: object) -> None:
        try:
            await self.on_result(shard, await self._run(shard))
        finally:
            self._limiter.release_on_behalf_of(token)

    async def _run(self, shard: Any) -> ShardResult:
        error: BaseException | None = None
        for _ in range(1 + RESUBMISSIONS):
            future = self.client.submit(
                self.task, shard, key=shard_key(shard.number), pure=False, retries=0
            )
            self._futures[shard.number] = future
            try:
                result: ShardResult = await future
                return result
            except KilledWorker as exc:
                error = exc
            except Exception as exc:
                error = exc
                break
            finally:
                self._futures.pop(shard.number, None)
                future.release()
        return _lost(shard, error)


def _lost(shard: Any, error: BaseException | None) -> ShardResult:
    message = redact_text(f"{type(error).__name__}: {error}") if error else "no result"
    lost = ShardLostError(f"the shard could not be completed on the cluster ({message})")
    results = [
        FileResult(item.key, "failed", item.size, error_type=type(lost).__name__, error=str(lost))
        for item in shard.items
    ]
    return ShardResult(shard.number, "none", results)
