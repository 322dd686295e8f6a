"""Offset/limit pagination (seam for generated list operations; see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class AsyncPaginator(Generic[T]):
    """Iterate every item of every page of an offset/limit operation."""

    def __init__(
        self,
        fetch_page: Callable[[int, int], Awaitable[list[T]]],
        *,
        page_size: int = 100,
        start_offset: int = 0,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        if start_offset < 0:
            raise ValueError(f"start_offset must be >= 0, got {start_offset}")
        self._fetch_page = fetch_page
        self.page_size = page_size
        self.start_offset = start_offset

    async def pages(self) -> AsyncIterator[list[T]]:
        """Yield each page in order, stopping after a short page."""
        offset = self.start_offset
        while True:
            page = await self._fetch_page(offset, self.page_size)
            if page:
                yield page
            if len(page) < self.page_size:
                return
            offset += len(page)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page:
                yield item
