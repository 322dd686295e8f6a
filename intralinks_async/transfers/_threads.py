"""One short blocking call in a worker thread, at the cost of a plain executor hop.

A tree transfer makes one thread hop per small file (read and hash it, or hash, write,
fsync and rename it). ``anyio.to_thread.run_sync`` adds a capacity limiter, run-variable
lookups and its own worker bookkeeping to every hop, which shows on the event loop at
thousands of files per second. :func:`run_short` submits to a ``ThreadPoolExecutor``
owned by this module under asyncio and falls back to anyio's worker threads elsewhere
(trio).

The semantics the transfers rely on are kept: the caller's context variables are seen
by the call, and a cancelled caller still waits for the call to finish (a file operation
never runs on after its task was cancelled), then gets its cancellation.

Only for short calls: a long loop in the thread cannot observe cancellation here
(``thread_checkpoint`` needs an anyio worker thread); those keep ``anyio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import anyio.to_thread

__all__ = ["run_short"]

T = TypeVar("T")

#: Worker threads of the executor: the standard library's default executor size. The
#: per-file hops of a tree download are mostly fsync waits, and more concurrent fsyncs
#: than that were measured to slow a small machine's disk down (32 threads: about 10%
#: fewer files/s than 6 or 8 on 2 cores), not to speed it up.
MAX_WORKERS = min(32, (os.cpu_count() or 1) + 4)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_owner_pid = 0


def _pool() -> ThreadPoolExecutor:
    """The module's executor, created on first use (again in a forked child)."""
    global _executor, _owner_pid
    pid = os.getpid()
    executor = _executor
    if executor is not None and _owner_pid == pid:
        return executor
    with _lock:
        if _executor is None or _owner_pid != pid:
            # A child of fork() inherits the parent's executor without its threads.
            _executor = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="intralinks-io")
            _owner_pid = pid
        return _executor


async def run_short(func: Callable[[], T]) -> T:
    """Run ``func()`` in a worker thread and return its result (or raise its error)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio): anyio's threads
        return await anyio.to_thread.run_sync(func)
    context = contextvars.copy_context()
    future: Future[T] = _pool().submit(context.run, func)
    try:
        return await asyncio.wrap_future(future, loop=loop)
    except asyncio.CancelledError:
        await _finish(future, loop)
        raise


async def _finish(future: Future[T], loop: asyncio.AbstractEventLoop) -> None:
    """Wait (through further cancellations) until a started call has returned."""
    while not future.done():
        try:
            await asyncio.wrap_future(future, loop=loop)
        except asyncio.CancelledError:
            continue
        except BaseException:
            return
