"""run_short: one short blocking call in a worker thread, cancellation-safe."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import anyio
import pytest

from intralinks_async.transfers._threads import run_short

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("_VAR", default="unset")


async def test_result_error_thread_and_context() -> None:
    _VAR.set("caller's")
    main = threading.get_ident()

    def work() -> tuple[str, bool]:
        return _VAR.get(), threading.get_ident() != main

    assert await run_short(work) == ("caller's", True)

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await run_short(fail)


async def test_cancelled_caller_waits_for_the_call_to_finish() -> None:
    """No file operation runs on after its task was cancelled: the cancellation reaches
    the caller only once the call has returned (even if cancelled twice)."""
    started = threading.Event()
    release = threading.Event()
    finished: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(10)
        finished.append("done")

    task = asyncio.create_task(run_short(slow))
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # still waiting for the thread
    task.cancel()  # a second cancellation does not cut the wait short either
    await asyncio.sleep(0.05)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["done"]


async def test_cancelled_before_it_started_never_runs() -> None:
    ran: list[int] = []
    blockers = threading.Event()
    # Occupy every worker so that the next call stays queued.
    from intralinks_async.transfers import _threads

    holders = [
        asyncio.create_task(run_short(lambda: blockers.wait(10)))
        for _ in range(_threads.MAX_WORKERS)
    ]
    await asyncio.sleep(0.05)
    queued = asyncio.create_task(run_short(lambda: ran.append(1)))
    await asyncio.sleep(0.05)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    blockers.set()
    await asyncio.gather(*holders)
    await asyncio.sleep(0.05)
    assert ran == []


def test_under_trio_uses_anyio_threads() -> None:
    async def main() -> int:
        return await run_short(lambda: 41 + 1)

    assert anyio.run(main, backend="trio") == 42
