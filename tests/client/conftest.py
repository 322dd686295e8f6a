"""Shared helpers for the client-layer tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.testing import create_app

CLIENT_ID = "demo"
CLIENT_SECRET = "demo-secret"
BASE = "http://127.0.0.1"


class SleepRecorder:
    """Stands in for ``anyio.sleep`` in the retry loop: records delays, waits not."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(app: Any, *, sleep: SleepRecorder | None = None, **kwargs: Any) -> IntralinksClient:
    """A client talking to the emulator ``app`` in-process (ASGI transport)."""
    options: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    options.update(kwargs)
    client = IntralinksClient(BASE, transport=httpx.ASGITransport(app=app), **options)
    if sleep is not None:
        client._sleep = sleep
    return client


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
def emu(app: Any) -> Any:
    return app.state.emulator


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_retries=3, backoff_base=0.001, backoff_cap=0.002)


@pytest.fixture
def loopback_url(app: Any) -> Iterator[str]:
    from intralinks_async.testing import serve_in_thread

    with serve_in_thread(app) as url:
        yield url
