"""AsyncPaginator unit tests and the 1,234-workspace listing against the emulator."""

from __future__ import annotations

import anyio
import pytest
from client_helpers import make_client

from intralinks_async.errors import IntralinksError
from intralinks_async.pagination import AsyncPaginator


class Source:
    """A fake offset/limit endpoint over ``n`` integers that records its calls."""

    def __init__(self, n: int, *, fail_at: int | None = None) -> None:
        self.items = list(range(n))
        self.calls: list[tuple[int, int]] = []
        self.fail_at = fail_at
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, offset: int, limit: int) -> list[int]:
        self.calls.append((offset, limit))
        if self.fail_at is not None and offset >= self.fail_at:
            raise RuntimeError(f"page at {offset} failed")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await anyio.sleep(0)
        self.in_flight -= 1
        return self.items[offset : offset + limit]


async def test_items_across_pages_stop_on_short_page() -> None:
    src = Source(25)
    assert [i async for i in AsyncPaginator(src, page_size=10)] == list(range(25))
    assert src.calls == [(0, 10), (10, 10), (20, 10)]


async def test_exact_multiple_ends_with_an_empty_page() -> None:
    src = Source(20)
    pages = [p async for p in AsyncPaginator(src, page_size=10).pages()]
    assert pages == [list(range(10)), list(range(10, 20))]
    assert src.calls[-1] == (20, 10)


async def test_start_offset_and_position_resume() -> None:
    src = Source(30)
    paginator = AsyncPaginator(src, page_size=7)
    seen = []
    async for item in paginator:
        seen.append(item)
        if item == 12:
            break
    resumed = AsyncPaginator(src, page_size=7, start_offset=paginator.position)
    rest = [i async for i in resumed]
    assert rest[0] == 12  # at most the item in hand is seen twice
    assert seen[:-1] + rest == list(range(30))
    assert resumed.position == 30


async def test_prefetch_overlaps_one_page_and_stays_bounded() -> None:
    src = Source(95)
    async with AsyncPaginator(src, page_size=10).with_prefetch() as paginator:
        out = []
        async for page in paginator.pages():
            # While page n is consumed, page n+1 has been requested, never n+2.
            assert len(src.calls) <= (page[0] // 10) + 2
            out.extend(page)
    assert out == list(range(95))
    assert src.calls == [(o, 10) for o in range(0, 100, 10)]


async def test_prefetch_needs_context_and_errors_propagate() -> None:
    paginator = AsyncPaginator(Source(5), page_size=2, prefetch=True)
    with pytest.raises(RuntimeError, match="async with"):
        [i async for i in paginator]
    src = Source(50, fail_at=20)
    with pytest.raises(RuntimeError, match="page at 20 failed"):
        async with AsyncPaginator(src, page_size=10).with_prefetch() as failing:
            async for _ in failing:
                pass


async def test_breaking_out_of_prefetch_cancels_pending_fetch() -> None:
    src = Source(1000)
    async with AsyncPaginator(src, page_size=10, prefetch=True) as paginator:
        async for item in paginator:
            if item == 3:
                break
    assert len(src.calls) <= 2


def test_validation() -> None:
    with pytest.raises(ValueError):
        AsyncPaginator(Source(1), page_size=0)
    with pytest.raises(ValueError):
        AsyncPaginator(Source(1), start_offset=-1)
    assert "page_size=5" in repr(AsyncPaginator(Source(1), page_size=5))


async def test_1234_workspaces_paged_by_100(app, emu) -> None:
    emu.seed_workspaces(1234)
    async with make_client(app) as client:
        listed = [ws async for ws in client.workspaces.list(page_size=100)]
    ids = [ws.id for ws in listed]
    assert len(ids) == 1234 == len(set(ids))
    assert ids == sorted(ids, key=int)
    assert emu.requests["listWorkspaces"] == 13


async def test_server_ignoring_offset_is_detected_not_looped_forever() -> None:
    calls = 0

    async def ignores_offset(offset: int, limit: int) -> list[int]:
        nonlocal calls
        calls += 1
        await anyio.sleep(0)
        return list(range(limit))  # always the first page

    seen: list[int] = []
    with pytest.raises(IntralinksError, match="offset"):
        with anyio.fail_after(5):
            async for item in AsyncPaginator(ignores_offset, page_size=3):
                seen.append(item)
    assert seen == [0, 1, 2] and calls == 2
    # Prefetch mode too.
    with pytest.raises(IntralinksError, match="offset"):
        with anyio.fail_after(5):
            async with AsyncPaginator(ignores_offset, page_size=3, prefetch=True) as paginator:
                async for _ in paginator:
                    pass


@pytest.mark.parametrize("bad", [True, 2.5, "10", None])
def test_page_size_and_offset_must_be_integers(bad: object) -> None:
    with pytest.raises(TypeError):
        AsyncPaginator(Source(1), page_size=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AsyncPaginator(Source(1), start_offset=bad)  # type: ignore[arg-type]


class CappedSource(Source):
    """An endpoint that silently returns at most ``cap`` items whatever ``limit`` asks."""

    def __init__(self, n: int, cap: int) -> None:
        super().__init__(n)
        self.cap = cap

    async def __call__(self, offset: int, limit: int) -> list[int]:
        return await super().__call__(offset, min(limit, self.cap))


@pytest.mark.parametrize("prefetch", [False, True])
@pytest.mark.parametrize("n", [0, 1, 49, 50, 51, 120, 150])
async def test_server_capping_limit_loses_nothing(n: int, prefetch: bool) -> None:
    src = CappedSource(n, cap=50)
    async with AsyncPaginator(src, page_size=100, prefetch=prefetch) as paginator:
        assert [i async for i in paginator] == list(range(n))


async def test_a_lone_short_first_page_is_confirmed_once() -> None:
    src = Source(5)
    assert [i async for i in AsyncPaginator(src, page_size=10)] == list(range(5))
    # The first page was short and nothing proved the server honours limit=10: one probe.
    assert src.calls == [(0, 10), (5, 10)]


async def test_capped_emulator_listing_is_complete(emu, app) -> None:
    emu.seed_workspaces(120)
    emu.max_page_size = 50
    async with make_client(app) as client:
        listed = [ws async for ws in client.workspaces.list(page_size=100)]
    assert len({ws.id for ws in listed}) == 120
