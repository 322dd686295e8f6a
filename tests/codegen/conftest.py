"""Fixtures for the generated layer: a minimal RequestSender over httpx.AsyncClient."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from intralinks_async._generated.api import Resources

BASE_URL = "https://api.test/v2"
TOKEN = "test-token"


class HttpxSender:
    """Test-only RequestSender: adds a bearer token when ``authenticated`` and records calls."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.calls: list[dict[str, Any]] = []

    def _headers(self, headers: Mapping[str, str] | None, authenticated: bool) -> httpx.Headers:
        out = httpx.Headers(headers)
        if authenticated:
            out["Authorization"] = f"Bearer {TOKEN}"
        return out

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        self.calls.append({"operation": operation, "method": method, "path": path})
        return await self.client.request(
            method,
            path,
            params=params,
            json=json,
            data=data,
            content=content,
            headers=self._headers(headers, authenticated),
        )

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> AsyncIterator[httpx.Response]:
        self.calls.append({"operation": operation, "method": method, "path": path})
        async with self.client.stream(
            method, path, params=params, headers=self._headers(headers, authenticated)
        ) as response:
            yield response


@pytest.fixture
async def sender() -> AsyncIterator[HttpxSender]:
    async with httpx.AsyncClient(base_url=BASE_URL) as client:
        yield HttpxSender(client)


@pytest.fixture
def api(sender: HttpxSender) -> Resources:
    return Resources(sender)
