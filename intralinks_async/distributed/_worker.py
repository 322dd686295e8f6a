"""What runs on the workers: shared-storage checks, progress events and the shard tasks."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio.to_thread
from distributed import Semaphore, get_worker

from intralinks_async.distributed._clients import cached_client
from intralinks_async.distributed._shards import FileResult, ShardResult, _ShardBase
from intralinks_async.errors import redact_text
from intralinks_async.transfers._failures import is_fatal as _transfers_fatal
from intralinks_async.transfers.manifest import utc_now
from intralinks_async.transfers.progress import ProgressEvent, ProgressTracker
from intralinks_async.transfers.window import run_window

__all__ = [
    "PROGRESS_TOPIC",
    "ShardContext",
    "check_destination",
    "check_source",
    "dir_signature",
    "run_shard",
]

#: Event topic (prefix) of worker progress messages; the run id is appended.
PROGRESS_TOPIC = "intralinks-progress-"
#: Minimum seconds between two progress messages of one shard.
PROGRESS_INTERVAL = 0.25

T = TypeVar("T")


def worker_address() -> str:
    """This worker's address, or ``"local"`` outside a worker."""
    try:
        return str(get_worker().address)
    except ValueError:
        return "local"


# -- shared storage ------------------------------------------------------------------------


def dir_signature(path: str) -> str | None:
    """A digest of the names directly under ``path`` (None when it is not a directory).

    Independent of the order the file system lists them in (it may differ between
    machines) and computed in one pass, whatever the number of entries.
    """
    import hashlib

    if not os.path.isdir(path):
        return None
    total = count = 0
    with os.scandir(path) as it:
        for entry in it:
            digest = hashlib.sha256(entry.name.encode("utf-8", "surrogateescape")).digest()
            total = (total + int.from_bytes(digest[:16], "big")) % (1 << 128)
            count += 1
    return f"{count}:{total:032x}"


def check_source(path: str, expected: str) -> str | None:
    """On a worker: why ``path`` is not the coordinator's source directory (None: it is)."""
    if not os.path.isdir(path):
        return "does not exist or is not a directory"
    if dir_signature(path) != expected:
        return "holds other entries than on the coordinator (not the same shared storage)"
    if not os.access(path, os.R_OK | os.X_OK):
        return "is not readable"
    return None


def check_destination(path: str, probe: str, token: str) -> str | None:
    """On a worker: why ``path`` is not the coordinator's destination (None: it is).

    The coordinator wrote ``token`` into the file ``probe`` there; the worker must read
    it back and be able to create and delete a file of its own.
    """
    if not os.path.isdir(path):
        return "does not exist or is not a directory"
    try:
        with open(os.path.join(path, probe), encoding="ascii") as fh:
            if fh.read() != token:
                return "is another directory than on the coordinator (probe file differs)"
    except (OSError, UnicodeError):
        return "is another directory than on the coordinator (probe file not visible)"
    mine = os.path.join(path, f"{probe}-{uuid.uuid4().hex[:8]}")
    try:
        with open(mine, "x", encoding="ascii") as fh:
            fh.write(token)
        os.unlink(mine)
    except OSError as exc:
        return f"is not writable ({type(exc).__name__})"
    return None


# -- progress ------------------------------------------------------------------------------


class _Emitter:
    """Sends a shard's cumulative progress to the coordinator, at most every 0.25 s."""

    def __init__(self, run_id: str, number: int) -> None:
        self.topic = PROGRESS_TOPIC + run_id
        self.number = number
        self.attempt = uuid.uuid4().hex[:12]
        self.seq = 0
        self.last = 0.0
        self.tracker = ProgressTracker(self, items_total=None)
        try:
            self._worker: Any = get_worker()
        except ValueError:
            self._worker = None

    def __call__(self, event: ProgressEvent) -> None:
        terminal = event.kind in ("finished", "failed", "skipped")
        now = time.monotonic()
        if terminal or now - self.last >= PROGRESS_INTERVAL:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Send the current counters."""
        self.last = time.monotonic() if now is None else now
        self.seq += 1
        if self._worker is not None:
            self._worker.log_event(
                self.topic,
                {
                    "shard": self.number,
                    "attempt": self.attempt,
                    "seq": self.seq,
                    "bytes": self.tracker.bytes_done,
                    "items": self.tracker.items_done,
                },
            )


# -- running a shard -----------------------------------------------------------------------


def failure(key: str, exc: BaseException, size: int | None = None) -> FileResult:
    """A failed file's result (message redacted, type kept by name)."""
    return FileResult(
        key,
        "failed",
        size=size,
        error_type=type(exc).__name__,
        error=redact_text(str(exc)),
        ended_at=utc_now(),
    )


def is_fatal(exc: BaseException) -> bool:
    """Errors that stop the whole run (the transfers' rule: every other file would fail)."""
    return _transfers_fatal(exc)


class ShardContext:
    """What a shard's per-file function gets: the API, its progress tracker and the result."""

    def __init__(self, client: Any, emitter: _Emitter, result: ShardResult) -> None:
        from intralinks_async.transfers._api import RemoteAPI

        self.client = client
        self.api = RemoteAPI(client)
        self.tracker = emitter.tracker
        self.result = result


@asynccontextmanager
async def _lease(budget: Semaphore | None) -> AsyncIterator[None]:
    if budget is None:
        yield
        return
    await budget.acquire()
    try:
        yield
    finally:
        await budget.release()


def _rate_control(client: Any) -> dict[str, object] | None:
    control = getattr(client, "rate_control", None)
    if control is None:
        return None
    try:
        snapshot = control.snapshot()
        data = snapshot.to_dict()
    except Exception:  # a best-effort summary; never fails the shard
        return None
    return dict(data) if isinstance(data, dict) else None


async def run_shard(
    shard: _ShardBase,
    items: Sequence[T],
    key_of: Callable[[T], str],
    transfer: Callable[[ShardContext, T], Awaitable[FileResult]],
) -> ShardResult:
    """Run ``transfer`` on every item (``shard.concurrency`` at once); never raises per file.

    Items not attempted because a fatal error (authentication refused, service down)
    stopped the shard have no result; ``aborted`` says why.
    """
    result = ShardResult(shard.number, worker_address())
    emitter = _Emitter(shard.run_id, shard.number)
    emitter.tracker.add_totals(items=len(items))
    visible = await anyio.to_thread.run_sync(os.path.isdir, shard.root)
    if not visible:
        from intralinks_async.distributed.errors import SharedStorageError

        error = SharedStorageError(
            f"worker {result.worker} cannot see {shard.root!r} (shared storage is required)",
            worker=result.worker,
            path=shard.root,
        )
        result.results = [failure(key_of(item), error) for item in items]
        return result
    budget = None
    if shard.cluster_budget is not None:
        name, leases = shard.cluster_budget
        budget = Semaphore(max_leases=leases, name=name)
    async with cached_client(shard.credentials) as client:
        ctx = ShardContext(client, emitter, result)

        async def one(item: T) -> None:
            if result.aborted is not None:
                return
            async with _lease(budget):
                result.results.append(await transfer(ctx, item))

        def failed(item: T, exc: Exception) -> None:
            if is_fatal(exc):
                if result.aborted is None:
                    result.aborted = f"{type(exc).__name__}: {redact_text(str(exc))}"
                return
            result.results.append(failure(key_of(item), exc))

        try:
            await run_window(items, one, concurrency=shard.concurrency, on_error=failed)
        finally:
            result.retries = ctx.api.retries
            result.rate_control = _rate_control(client)
            emitter.flush()
    return result
