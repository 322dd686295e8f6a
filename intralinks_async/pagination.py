"""Offset/limit pagination (seam for generated list operations; see docs/architecture.md).

Generated code renders every operation with integer ``offset`` and ``limit`` query
parameters as a plain method returning :class:`AsyncPaginator`::

    async for ws in client.workspaces.list(page_size=100):     # every item of every page
        ...
    async for page in client.workspaces.list().pages():       # page by page
        ...

Iteration stops after a short (or empty) page. Servers may cap ``limit`` silently, so a
short page is trusted only once the server has shown how many items a page holds: when
the very first page is short (and not empty), one more page is requested to confirm the
end; if it holds items, the short page's length is taken as the server's cap and paging
goes on. A full page identical to the one before it (a server ignoring ``offset``) raises
``IntralinksError`` instead of looping forever. At most one page is held at a time, two
with prefetch, which fetches the next page while the current one is consumed; prefetch
needs a task group, so it runs inside ``async with``::

    async with client.workspaces.list(page_size=500).with_prefetch() as paginator:
        async for ws in paginator:
            ...

``position`` is the offset of the item being handed out (between pages: of the next
page); a new paginator with ``start_offset=position`` resumes where an interrupted one
stopped, re-yielding at most the item that was in hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

import anyio
from anyio.abc import TaskGroup

from intralinks_async.errors import IntralinksError

__all__ = ["AsyncPaginator"]

T = TypeVar("T")


class _Prefetch(Generic[T]):
    """One page being fetched in the background."""

    __slots__ = ("_done", "_error", "_page")

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._page: list[T] | None = None
        self._error: Exception | None = None

    async def run(
        self, fetch: Callable[[int, int], Awaitable[list[T]]], offset: int, size: int
    ) -> None:
        try:
            self._page = list(await fetch(offset, size))
        except Exception as exc:  # re-raised in the consumer by result()
            self._error = exc
        finally:
            self._done.set()

    async def result(self) -> list[T]:
        await self._done.wait()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        assert self._page is not None
        page, self._page = self._page, None
        return page


class AsyncPaginator(Generic[T]):
    """Iterate every item of every page of an offset/limit operation.

    ``fetch_page(offset, limit)`` returns the items of one page. ``page_size`` is the
    ``limit`` sent; ``start_offset`` the first offset requested (resume point);
    ``prefetch`` fetches page n+1 while page n is consumed (inside ``async with``).
    """

    def __init__(
        self,
        fetch_page: Callable[[int, int], Awaitable[list[T]]],
        *,
        page_size: int = 100,
        start_offset: int = 0,
        prefetch: bool = False,
    ) -> None:
        for name, value in (("page_size", page_size), ("start_offset", start_offset)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        if start_offset < 0:
            raise ValueError(f"start_offset must be >= 0, got {start_offset}")
        self._fetch_page = fetch_page
        self.page_size = page_size
        self.start_offset = start_offset
        self.prefetch = prefetch
        self.position = start_offset
        self._task_group: TaskGroup | None = None

    def __repr__(self) -> str:
        return (
            f"AsyncPaginator(page_size={self.page_size}, start_offset={self.start_offset}, "
            f"position={self.position}, prefetch={self.prefetch})"
        )

    def with_prefetch(self, enabled: bool = True) -> Self:
        """Turn prefetching of the next page on (use the paginator in ``async with``)."""
        self.prefetch = enabled
        return self

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("AsyncPaginator context already entered")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group, self._task_group = self._task_group, None
        assert task_group is not None
        task_group.cancel_scope.cancel()  # drop a prefetch nobody will consume
        # Prefetch tasks never raise (their errors reach the consumer through result()),
        # so the block's own exception propagates as is instead of in an ExceptionGroup.
        await task_group.__aexit__(None, None, None)
        return None

    async def pages(self) -> AsyncIterator[list[T]]:
        """Yield each non-empty page in order, stopping after a short page."""
        if self.prefetch and self._task_group is None:
            raise RuntimeError(
                "prefetch needs a task group: use `async with paginator:` around the loop"
            )
        offset = self.position
        size = self.page_size
        pending: _Prefetch[T] | None = None
        probed: list[T] | None = None
        # How many items a full page holds: the limit asked for, or a smaller cap the server
        # turned out to apply. ``None`` until a full page (or a confirmed cap) proves it.
        page_capacity: int | None = None
        # First and last item of the previous full page (not the page: memory stays bounded).
        previous: tuple[T, T] | None = None
        while True:
            if probed is not None:
                page, probed = probed, None
            elif pending is not None:
                page = await pending.result()
                pending = None
            else:
                page = list(await self._fetch_page(offset, size))
            if len(page) >= size:
                page_capacity = size
            elif page and page_capacity is None:
                # A short first page: the end, or a server capping limit? Ask once.
                probed = list(await self._fetch_page(offset + len(page), size))
                page_capacity = len(page) if probed else size
            full = len(page) >= (page_capacity or size)
            ends = (page[0], page[-1]) if full else None
            if ends is not None and ends == previous:
                # A server that ignores offset returns the same full page forever.
                raise IntralinksError(
                    f"the server returned the same page for offsets {offset - len(page)} "
                    f"and {offset}: it appears to ignore offset; stopping instead of looping"
                )
            previous = ends
            if full and probed is None and self.prefetch and self._task_group is not None:
                pending = _Prefetch()
                self._task_group.start_soon(pending.run, self._fetch_page, offset + len(page), size)
            if page:
                yield page
            offset += len(page)
            self.position = offset
            if not full and not probed:
                return

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            base = self.position
            for index, item in enumerate(page):
                # While items of this page are handed out, position tracks the item.
                self.position = base + index
                yield item
            self.position = base + len(page)
