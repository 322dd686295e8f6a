"""Helpers shared by the client-layer tests (importable as ``client_helpers``)."""

from __future__ import annotations

from typing import Any

import httpx

from intralinks_async import IntralinksClient

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
