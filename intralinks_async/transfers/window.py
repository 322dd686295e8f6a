"""Bounded-concurrency sliding window over a (possibly huge, possibly async) item stream.

A fixed number of worker tasks pull items one at a time from a shared iterator, so a
million items never mean a million tasks or a million pending coroutines: at most
``concurrency`` items are in flight and the iterator is consumed lazily.
"""

from __future__ import annotations

import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Protocol, TypeVar, cast

import anyio

__all__ = ["BatchSink", "run_fed_window", "run_window", "unwrap_exception_group"]

T = TypeVar("T")


def unwrap_exception_group(exc: BaseException) -> BaseException:
    """Return the most telling leaf of (nested) exception groups.

    Prefers an ordinary ``Exception`` over cancellation and ``KeyboardInterrupt``
    over everything.
    """
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves: list[BaseException] = []
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if isinstance(current, BaseExceptionGroup):
            stack[:0] = list(current.exceptions)
        else:
            leaves.append(current)
    for leaf in leaves:
        if isinstance(leaf, KeyboardInterrupt):
            return leaf
    cancelled = anyio.get_cancelled_exc_class()
    for leaf in leaves:
        if isinstance(leaf, Exception) and not isinstance(leaf, cancelled):
            return leaf
    return leaves[0] if leaves else exc


class BatchSink(Protocol[T]):
    """Where a producer of :func:`run_fed_window` sends its batches of items."""

    async def send(self, batch: list[T], /) -> None: ...


async def run_fed_window(
    produce: Callable[[BatchSink[T]], Awaitable[Exception | None]],
    worker: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    buffer: int,
    on_error: Callable[[T, Exception], None] | None = None,
    is_fatal: Callable[[Exception], bool] | None = None,
) -> Exception | None:
    """:func:`run_window` over the items that ``produce`` sends in batches, from a task
    of its own, up to ``buffer`` batches ahead of the workers (so the workers never wait
    for a batch being made when one could have been made meanwhile).

    ``produce`` returns a fatal failure of its own (or None); the window's fatal
    failure, when both stop, is returned first. Either's error propagates unwrapped.
    """
    send, receive = anyio.create_memory_object_stream[list[T]](buffer)
    produced: list[Exception | None] = [None]

    async def producer() -> None:
        # (BrokenResourceError: the window stopped, nothing wants more items.)
        async with send:
            with contextlib.suppress(anyio.BrokenResourceError):
                produced[0] = await produce(send)

    async def items() -> AsyncGenerator[T, None]:
        async with receive:
            async for batch in receive:
                for item in batch:
                    yield item

    source = items()  # held: it is closed once the producer is stopped, not before
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(producer)
            stopped = await run_window(
                source, worker, concurrency=concurrency, on_error=on_error, is_fatal=is_fatal
            )
            if stopped is not None:
                tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise unwrap_exception_group(group) from None
    finally:
        with anyio.CancelScope(shield=True):
            await source.aclose()
    return stopped or produced[0]


async def _from_sync(items: Iterable[T]) -> AsyncGenerator[T, None]:
    for item in items:
        yield item


def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """An async iterator over ``items`` (an async iterable's own: no extra generator)."""
    if isinstance(items, AsyncIterable):
        return aiter(items)
    return _from_sync(items)


async def run_window(
    items: Iterable[T] | AsyncIterable[T],
    worker: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    on_error: Callable[[T, Exception], None] | None = None,
    is_fatal: Callable[[Exception], bool] | None = None,
) -> Exception | None:
    """Run ``worker`` on every item with at most ``concurrency`` running at once.

    With ``on_error``, an ``Exception`` raised by a worker is passed to it and the
    window carries on with the next item (per-item failure isolation); without it, the
    first failure cancels the others and is re-raised (unwrapped from its task group).
    A failure for which ``is_fatal`` is true stops the window instead: the items in
    flight are cancelled, the rest are not started, and that failure is returned (None
    when every item ran). Cancellation always propagates.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    source = _aiter(items)
    lock = anyio.Lock(fast_acquire=True)  # no extra loop pass per item when uncontended
    exhausted = False

    async def next_item() -> list[T]:
        nonlocal exhausted
        async with lock:
            if exhausted:
                return []
            try:
                return [await anext(source)]
            except StopAsyncIteration:
                exhausted = True
                return []

    fatal: list[Exception] = []

    async def run_worker(scope: anyio.CancelScope) -> None:
        while not fatal and (batch := await next_item()):
            item = batch[0]
            try:
                await worker(item)
            except Exception as exc:
                if is_fatal is not None and is_fatal(exc):
                    fatal.append(exc)
                    scope.cancel()
                    return
                if on_error is None:
                    raise
                on_error(item, exc)

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(run_worker, tg.cancel_scope)
    except BaseExceptionGroup as group:
        raise unwrap_exception_group(group) from None
    finally:
        if not isinstance(items, AsyncIterable):  # the caller's own iterator stays open
            with anyio.CancelScope(shield=True):
                await cast("AsyncGenerator[T, None]", source).aclose()
    return fatal[0] if fatal else None
