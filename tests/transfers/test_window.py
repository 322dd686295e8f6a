"""The sliding window: bounded, lazy, failure-isolating, cancellable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from intralinks_async.transfers.window import BatchSink, run_fed_window, run_window


async def test_bounded_and_lazy() -> None:
    pulled = 0
    running = 0
    peak = 0
    done: list[int] = []

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield i

    all_busy = anyio.Event()

    async def worker(i: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 4:
            all_busy.set()
        # Items pulled never run ahead of the items started by more than the window.
        assert pulled <= len(done) + 4
        if i < 4:
            with anyio.fail_after(5):
                await all_busy.wait()
        await anyio.sleep(0)
        running -= 1
        done.append(i)
        if len(done) == 200:
            raise _Stop

    with pytest.raises(_Stop):
        await run_window(items(), worker, concurrency=4)
    assert peak == 4
    # 200 done, 4 in flight, and at most one more per worker: a worker that finishes in
    # the same loop pass as the failing one takes its next item before the task group's
    # cancellation reaches it (taking an item does not yield), and that item is
    # cancelled at its first await.
    assert pulled <= 204 + 4


class _Stop(Exception):
    pass


async def test_failures_are_isolated_with_on_error() -> None:
    failures: list[tuple[int, str]] = []
    done: list[int] = []

    async def source() -> AsyncIterator[int]:
        for i in range(50):
            await anyio.sleep(0)
            yield i

    async def worker(i: int) -> None:
        await anyio.sleep(0)
        if i % 7 == 0:
            raise ValueError(f"bad {i}")
        done.append(i)

    await run_window(
        source(), worker, concurrency=5, on_error=lambda i, e: failures.append((i, str(e)))
    )
    assert sorted(i for i, _ in failures) == [0, 7, 14, 21, 28, 35, 42, 49]
    assert len(done) == 42


async def test_first_error_propagates_unwrapped() -> None:
    async def worker(i: int) -> None:
        await anyio.sleep(0.001 * (i % 3))
        if i == 5:
            raise KeyError("five")

    with pytest.raises(KeyError):
        await run_window(range(100), worker, concurrency=3)


async def test_cancellation_stops_promptly() -> None:
    started = 0

    async def worker(i: int) -> None:
        nonlocal started
        started += 1
        await anyio.sleep(10)

    with anyio.move_on_after(0.05) as scope:
        await run_window(range(10**9), worker, concurrency=8)
    assert scope.cancelled_caught
    assert started == 8


async def test_rejects_bad_concurrency() -> None:
    async def worker(i: int) -> None:
        return None

    with pytest.raises(ValueError):
        await run_window([1], worker, concurrency=0)


async def test_fed_window_runs_every_item_with_the_producer_ahead_by_its_buffer() -> None:
    made: list[int] = []
    done: list[int] = []

    async def produce(send: BatchSink[int]) -> None:
        for b in range(20):
            made.append(b)
            await send.send([b * 10 + i for i in range(10)])

    async def worker(i: int) -> None:
        # While batch b is being worked on, at most b + 2 batches exist (the one in
        # hand, one in the buffer, one being made).
        assert len(made) <= i // 10 + 3
        await anyio.sleep(0)
        done.append(i)

    assert await run_fed_window(produce, worker, concurrency=4, buffer=1) is None
    assert sorted(done) == list(range(200))


async def test_fed_window_producer_error_propagates_unwrapped() -> None:
    async def produce(send: BatchSink[int]) -> None:
        await send.send([1, 2])
        raise OSError("walk failed")

    async def worker(i: int) -> None:
        await anyio.sleep(0.01)

    with pytest.raises(OSError, match="walk failed"):
        await run_fed_window(produce, worker, concurrency=2, buffer=1)


async def test_fed_window_fatal_failures_from_either_side_are_returned() -> None:
    class Fatal(Exception):
        pass

    async def endless(send: BatchSink[int]) -> None:
        n = 0
        while True:
            await send.send([n])
            n += 1

    async def worker(i: int) -> None:
        if i == 5:
            raise Fatal("stop")

    stopped = await run_fed_window(
        endless, worker, concurrency=2, buffer=1, on_error=lambda i, e: None,
        is_fatal=lambda e: isinstance(e, Fatal),
    )  # fmt: skip
    assert isinstance(stopped, Fatal)  # and the endless producer was cancelled

    async def giving_up(send: BatchSink[int]) -> Exception | None:
        await send.send([1, 2, 3])
        return Fatal("listing refused")

    seen: list[int] = []

    async def record(i: int) -> None:
        seen.append(i)

    stopped = await run_fed_window(giving_up, record, concurrency=2, buffer=1)
    assert isinstance(stopped, Fatal) and str(stopped) == "listing refused"
    assert sorted(seen) == [1, 2, 3]
